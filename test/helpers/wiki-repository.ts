// A wiki as GitHub keeps one: the bare repository `{server}/{owner}/{repo}.wiki.git` (branch
// master), with a commit per page, to be served by git-http-server.ts as GITHUB_SERVER_URL.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitWithoutLfsContent as git } from './lfs-repository.js';

export interface Wiki {
  /** The server's root folder (what git-http-server.ts serves). */
  server: string;
  /** The bare repository. */
  path: string;
  head: string;
  refs: number;
}

export interface WikiPage {
  file: string;
  text: string;
  /** The commit's message (default: the file's name). */
  message?: string;
}

/** `{work}/server/{repository}.wiki.git` with `pages`, one commit each, in order. */
export async function makeWiki(work: string, repository: string, pages: WikiPage[]): Promise<Wiki> {
  const server = join(work, 'server');
  const path = join(server, `${repository}.wiki.git`);
  mkdirSync(join(path, '..'), { recursive: true });
  await git(work, 'init', '--quiet', '--bare', '--initial-branch=master', path);
  const editor = join(work, 'wiki-pages');
  await git(work, 'clone', '--quiet', path, editor);
  for (const { file, text, message } of pages) {
    writeFileSync(join(editor, file), text);
    await git(editor, 'add', file);
    await git(editor, 'commit', '--quiet', '-m', message ?? file);
  }
  await git(editor, 'push', '--quiet', 'origin', 'HEAD:master');
  const refs = (await git(path, 'for-each-ref', '--format=%(refname)')).split('\n').length;
  return { server, path, head: await git(editor, 'rev-parse', 'HEAD'), refs };
}
