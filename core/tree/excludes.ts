// Exclude patterns with the semantics of GNU tar's `--exclude` (its defaults: unanchored,
// wildcards match '/'): a pattern excludes an entry when it matches the entry's relative path
// or any tail of it that starts at a component boundary. So a bare name (`node_modules`)
// excludes that name at any depth, `src/dist` excludes `src/dist` and `a/src/dist`, and
// `*.log` excludes every .log file. An excluded directory is not descended into.

export type ExcludeMatcher = (relativePath: string) => boolean;

/** `*` any run of characters (including '/'), `?` one character, `[...]` a class
 *  (`[!...]` or `[^...]` negated), `\x` the literal x. */
export function globToRegExpSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '\\' && i + 1 < pattern.length) out += escapeRegExp(pattern[++i]!);
    else if (ch === '[') {
      const close = findClassEnd(pattern, i);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = close;
    } else out += escapeRegExp(ch);
  }
  return out;
}

function findClassEnd(pattern: string, open: number): number {
  let j = open + 1;
  if (pattern[j] === '!' || pattern[j] === '^') j++;
  if (pattern[j] === ']') j++; // a leading ']' is literal, as in fnmatch
  const close = pattern.indexOf(']', j);
  return close;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Normalises a user pattern the way GNU tar sees names of `tar -C root .` (minus "./"). */
function normalisePattern(pattern: string): string {
  let p = pattern.trim();
  while (p.startsWith('./')) p = p.slice(2);
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

export function createExcludeMatcher(patterns: readonly string[]): ExcludeMatcher {
  const sources = patterns
    .map(normalisePattern)
    .filter((p) => p !== '' && p !== '.')
    .map(globToRegExpSource);
  if (sources.length === 0) return () => false;
  // Unanchored: the match may start at the beginning or right after any '/'.
  const re = new RegExp(`(?:^|/)(?:${sources.join('|')})$`, 's');
  return (relativePath) => re.test(relativePath);
}
