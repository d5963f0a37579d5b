// Exclude patterns with GNU tar's --exclude semantics, as the archive uses them: a pattern
// without '/' is tested against every name at any depth (excluding a directory prunes its
// subtree); a pattern with '/' against the relative path and every trailing part of it that
// starts at a component boundary. Globs: * (any run, '/' included), ? and [...] classes.
// Stand-in until the archive's action/excludes.ts is on main: same signature, same rules.

export type ExcludeMatcher = (relativePath: string, name: string) => boolean;

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '\\' && i + 1 < glob.length) out += escape(glob[++i]!);
    else if (c === '[' && glob.indexOf(']', i + 2) !== -1) {
      const end = glob.indexOf(']', i + 2);
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else out += escape(c);
  }
  return new RegExp(`^${out}$`, 's');
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function createExcludeMatcher(patterns: readonly string[]): ExcludeMatcher {
  const byName: RegExp[] = [];
  const byPath: RegExp[] = [];
  for (const raw of patterns) {
    const pattern = raw
      .trim()
      .replace(/^(\.\/)+/, '')
      .replace(/\/+$/, '');
    if (pattern !== '') (pattern.includes('/') ? byPath : byName).push(globToRegExp(pattern));
  }
  return (relativePath, name) => {
    if (byName.some((re) => re.test(name))) return true;
    for (let start = 0; byPath.length > 0 && start !== -1;) {
      if (byPath.some((re) => re.test(relativePath.slice(start)))) return true;
      const slash = relativePath.indexOf('/', start);
      start = slash === -1 ? -1 : slash + 1;
    }
    return false;
  };
}
