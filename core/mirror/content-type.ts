// Content-Type of a mirrored file, by extension. Source, markup and scripts (HTML, SVG and
// JavaScript included) are stored as text/plain, so a bucket served publicly shows a
// repository's files and never runs them as a page in a browser.

const TEXT = 'text/plain; charset=utf-8';

const BY_EXTENSION: Record<string, string> = {
  json: 'application/json',
  md: 'text/markdown; charset=utf-8',
  markdown: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  bmp: 'image/bmp',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  zst: 'application/zstd',
  tar: 'application/x-tar',
  wasm: 'application/wasm',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  webm: 'video/webm',
};

const SOURCE_EXTENSIONS = new Set(
  (
    'txt text log ts tsx mts cts js jsx mjs cjs map css scss sass less html htm xml svg vue svelte ' +
    'py rb go rs java kt kts scala c h cc cpp cxx hpp hh cs fs swift m mm php pl pm r lua dart ex exs ' +
    'erl hrl clj hs elm ml mli sh bash zsh fish ps1 bat cmd sql graphql gql proto thrift ' +
    'yml yaml toml ini cfg conf properties env lock gradle cmake mk make tf hcl nix rst adoc tex ' +
    'gitignore gitattributes npmignore dockerignore editorconfig prettierrc eslintrc babelrc nvmrc'
  ).split(' '),
);

const SOURCE_NAMES = new Set(
  'makefile dockerfile license licence readme changelog authors contributing notice copying gemfile rakefile procfile'.split(
    ' ',
  ),
);

export function contentTypeOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  const extension = dot === -1 ? '' : name.slice(dot + 1);
  if (extension === '') return SOURCE_NAMES.has(name) ? TEXT : 'application/octet-stream';
  if (SOURCE_EXTENSIONS.has(extension)) return TEXT;
  return BY_EXTENSION[extension] ?? 'application/octet-stream';
}
