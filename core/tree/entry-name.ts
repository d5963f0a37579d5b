// Archive entry names, made safe by construction: one normal form ("a/b/c", no empty, "." or
// ".." segment) that every check and every file-system call uses, so that "d//t", "d/./t" and
// "d/t" are one name and can never alias each other.
//
// Names are byte strings (one char per byte, see directory-cursor.ts): an archive's name is
// bytes, and a name that is not valid UTF-8 (git checks such names out) restores with its bytes,
// as GNU tar restores it. Folding, for the symbolic-link checks, reads the bytes as UTF-8 where
// they are UTF-8.
import { isUtf8 } from 'node:buffer';
import { textOf } from './directory-cursor.js';

/** Longer names are refused: deeper than any real tree, and checked in time linear in the
 *  name's length anyway (the confined tree walks and creates them directory by directory). */
export const MAX_NAME_BYTES = 64 * 1024;
/** Deeper names are refused: no real tree is that deep, and removing a deeper tree (a refused
 *  restore's staging directory) takes Node's rm superlinear time and a descriptor per level. */
export const MAX_NAME_DEPTH = 2048;
/** A symbolic link's target is stored by the OS as one string of at most PATH_MAX bytes. */
export const MAX_LINK_TARGET_BYTES = 4096;
/** How much of a name an error message shows. */
const SHOWN_NAME_CHARS = 200;

/** A name (a byte string, or text) for messages: quoted, cut to a few hundred characters. */
export function quoteName(name: string): string {
  const head = name.slice(0, 4 * SHOWN_NAME_CHARS);
  let text = /[\u0100-\uffff]/.test(head) ? head : textOf(head);
  const cut = text.length > SHOWN_NAME_CHARS || head.length < name.length;
  if (text.length > SHOWN_NAME_CHARS) text = text.slice(0, SHOWN_NAME_CHARS);
  return JSON.stringify(cut ? `${text}...` : text);
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
  if (name.length > MAX_NAME_BYTES) return { reason: `${what} longer than ${MAX_NAME_BYTES} bytes` };
  if (segments.length > MAX_NAME_DEPTH)
    return { reason: `${what} deeper than ${MAX_NAME_DEPTH} directories` };
  return { name };
}

/** Why a symbolic link's target cannot be restored verbatim, or undefined. Targets are data:
 *  absolute and ".." targets are kept as `git checkout` keeps them, since nothing is ever
 *  written through a link. */
export function symlinkTargetReason(target: string): string | undefined {
  if (target === '') return 'symbolic link with an empty target';
  if (target.length > MAX_LINK_TARGET_BYTES) return `link target longer than ${MAX_LINK_TARGET_BYTES} bytes`;
  return reasonAgainstAnyOs(target, 'link target');
}

/** The key under which names that a case-insensitive, normalising file system (macOS, Windows)
 *  would take for the same are one: deciding whether a name goes through a link is done on
 *  these keys on every OS. */
function foldName(name: string): string {
  return name.normalize('NFD').toUpperCase().toLowerCase().normalize('NFC');
}

/** `foldName` of one segment of a name (a byte string): of its UTF-8 text where it is UTF-8,
 *  else of its bytes, ASCII letters folded (and marked, so as to be no UTF-8 segment's key). */
export function foldSegment(segment: string): string {
  if (!/[\u0080-\uffff]/.test(segment)) return segment.toLowerCase();
  const bytes = Buffer.from(segment, 'latin1');
  if (isUtf8(bytes)) return foldName(bytes.toString('utf8'));
  return '\0' + segment.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
