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

// Unanchored: the match may start at the beginning or right after any '/'.
const unanchored = (sources: string[]): RegExp => new RegExp(`(?:^|/)(?:${sources.join('|')})$`, 's');

const usable = (patterns: readonly string[]): string[] =>
  patterns.map(normalisePattern).filter((p) => p !== '' && p !== '.');

export function createExcludeMatcher(patterns: readonly string[]): ExcludeMatcher {
  const sources = usable(patterns).map(globToRegExpSource);
  if (sources.length === 0) return () => false;
  const re = unanchored(sources);
  return (relativePath) => re.test(relativePath);
}

/** The paths git tracks under the archived root: its files and every directory above one. */
export type TrackedPaths = ReadonlySet<string>;

/** Where an excluded entry was left out, for the log: the pattern that matched, and the entry. */
export interface ExcludedEntry {
  pattern: string;
  relativePath: string;
}

export interface Exclusion {
  matcher: ExcludeMatcher;
  /** The entries left out so far (an excluded directory once, not what it holds). */
  excluded: ExcludedEntry[];
  /** Entries matched by a pattern but kept because git tracks them. */
  keptTracked: ExcludedEntry[];
}

/**
 * A matcher that also records what it leaves out and why. With `tracked`, an entry that git
 * tracks (a committed `dist/`, or a directory holding tracked files) is kept although a pattern
 * matches it: the default excludes are meant for build output, never for committed files. A
 * directory kept that way is descended into, and its untracked entries are still left out.
 */
export function createExclusion(patterns: readonly string[], tracked?: TrackedPaths): Exclusion {
  const list = usable(patterns);
  const each = list.map((p) => unanchored([globToRegExpSource(p)]));
  const any = createExcludeMatcher(list);
  const exclusion: Exclusion = { matcher: () => false, excluded: [], keptTracked: [] };
  // Directories matched but kept: what they hold is excluded unless tracked itself.
  const keptDirectories: { prefix: string; pattern: string }[] = [];
  exclusion.matcher = (relativePath) => {
    if (any(relativePath)) {
      const pattern = list[each.findIndex((re) => re.test(relativePath))]!;
      if (tracked?.has(relativePath)) {
        exclusion.keptTracked.push({ pattern, relativePath });
        keptDirectories.push({ prefix: `${relativePath}/`, pattern });
        return false;
      }
      exclusion.excluded.push({ pattern, relativePath });
      return true;
    }
    if (keptDirectories.length === 0 || tracked!.has(relativePath)) return false;
    const inside = keptDirectories.find((d) => relativePath.startsWith(d.prefix));
    if (inside === undefined) return false;
    exclusion.excluded.push({ pattern: inside.pattern, relativePath });
    return true;
  };
  return exclusion;
}
