// Archive entry names, made safe by construction: one normal form ("a/b/c", no empty, "." or
// ".." segment) that every check and every file-system call uses, so that "d//t", "d/./t" and
// "d/t" are one name and can never alias each other.

/** Longer names cannot be opened on Linux (PATH_MAX) and only cost time to check. */
export const MAX_NAME_BYTES = 4096;
/** How much of a name an error message shows. */
const SHOWN_NAME_CHARS = 200;

/** A name for messages: quoted, cut to a few hundred characters. */
export function quoteName(name: string): string {
  const shown = name.length > SHOWN_NAME_CHARS ? `${name.slice(0, SHOWN_NAME_CHARS)}...` : name;
  return JSON.stringify(shown);
}

/** Why a name (or a link target) is unsafe on some runner OS, whatever it is used for. */
function reasonAgainstAnyOs(name: string, what: string): string | undefined {
  if (name.includes('\0')) return `${what} contains a NUL byte`;
  // Windows reads "\" as a separator and "C:" as a drive (or, later in a path, a stream of
  // file "C"): refused on every OS, so that an archive restores or is refused the same everywhere.
  if (name.includes('\\')) return `${what} contains a backslash`;
  if (/(^|\/)[A-Za-z]:/.test(name)) return `${what} has a drive letter form ("X:")`;
  return undefined;
}

export type NameResult = { name: string } | { reason: string };

/**
 * The normal form of an entry name or a hard-link target (both are names inside the archive):
 * "" for the archive's root ("." or "./"), refused when it is absolute, holds "..", or is empty.
 */
export function normaliseName(raw: string, what = 'name'): NameResult {
  const unsafe = reasonAgainstAnyOs(raw, what);
  if (unsafe) return { reason: unsafe };
  if (raw === '') return { reason: `empty ${what}` };
  if (raw.startsWith('/')) return { reason: `absolute ${what}` };
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return { reason: `${what} contains ".."` };
    segments.push(segment);
  }
  const name = segments.join('/');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    return { reason: `${what} longer than ${MAX_NAME_BYTES} bytes` };
  return { name };
}

/** Why a symbolic link's target cannot be restored verbatim, or undefined. Targets are data:
 *  absolute and ".." targets are kept as `git checkout` keeps them, since nothing is ever
 *  written through a link. */
export function symlinkTargetReason(target: string): string | undefined {
  if (target === '') return 'symbolic link with an empty target';
  if (Buffer.byteLength(target) > MAX_NAME_BYTES) return `link target longer than ${MAX_NAME_BYTES} bytes`;
  return reasonAgainstAnyOs(target, 'link target');
}

/** The key under which names that a case-insensitive, normalising file system (macOS, Windows)
 *  would take for the same are one: deciding whether a name goes through a link is done on
 *  these keys on every OS. */
export function foldName(name: string): string {
  return name.normalize('NFD').toUpperCase().toLowerCase().normalize('NFC');
}

/** "a/b/c" -> "a/b"; "a" -> "". */
export function parentOf(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? '' : name.slice(0, slash);
}
