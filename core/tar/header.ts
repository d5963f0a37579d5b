// POSIX tar (ustar) headers, with a pax extended header in front of an entry when a field
// does not fit ustar (long or non-ASCII path or link name, size >= 8 GiB, large ids or times).
// GNU tar, bsdtar and the `tar` package all read this format.
//
// Names are bytes. A name that is not valid UTF-8 (git checks such names out) cannot go to pax,
// whose `path` is UTF-8 (GNU tar writes the raw bytes there, which bsdtar refuses to convert;
// `hdrcharset=BINARY` makes GNU tar warn): it is written as GNU tar's gnu format writes every
// name, raw in the ustar fields when it fits, else in a GNU long-name ('L') or long-link ('K')
// entry in front, which GNU tar, bsdtar, Python's tarfile and the `tar` package read as bytes.
import { isUtf8 } from 'node:buffer';

export const BLOCK = 512;

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'directory';

const TYPEFLAG: Record<EntryType, string> = { file: '0', hardlink: '1', symlink: '2', directory: '5' };

export interface TarEntryHeader {
  /** Path relative to the archive root, as its bytes; directories end with '/'. */
  path: Buffer;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes that follow the header (0 for everything but files). */
  size: number;
  /** Modification time in milliseconds since the epoch, as fs.Stats' mtimeMs. */
  mtimeMs: number;
  /** The link's target, as its bytes. */
  linkpath?: Buffer;
}

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const NO_BYTES: Buffer = Buffer.alloc(0);
const NEWLINE = Buffer.from('\n');

/** The header bytes of one entry: [GNU long name/link] [pax header + pax data] + ustar header,
 *  a multiple of 512. */
export function encodeHeader(entry: TarEntryHeader): Buffer {
  const pathBytes = entry.path;
  const linkBytes = entry.linkpath ?? NO_BYTES;
  const seconds = Math.floor(entry.mtimeMs / 1000);
  const pax: [string, Buffer][] = [];
  const gnu: Buffer[] = [];
  const ustarName = splitUstarName(pathBytes);
  let prefix: Buffer = NO_BYTES;
  let name: Buffer;
  if (ustarName && isAscii(pathBytes)) [prefix, name] = ustarName;
  else if (isUtf8(pathBytes)) {
    // Non-ASCII names go to pax too, so that every reader decodes them as UTF-8.
    pax.push(['path', pathBytes]);
    [prefix, name] = ustarName ?? [NO_BYTES, asciiFallback(pathBytes, 100)];
  } else if (ustarName) [prefix, name] = ustarName;
  else {
    gnu.push(gnuLongEntry('L', pathBytes));
    name = pathBytes.subarray(0, 100);
  }
  let linkField = linkBytes;
  if (linkBytes.length > 100 || !isAscii(linkBytes)) {
    if (isUtf8(linkBytes)) {
      pax.push(['linkpath', linkBytes]);
      linkField = asciiFallback(linkBytes, 100);
    } else if (linkBytes.length > 100) {
      gnu.push(gnuLongEntry('K', linkBytes));
      linkField = linkBytes.subarray(0, 100);
    }
  }
  if (entry.size > MAX_OCTAL_11) pax.push(['size', Buffer.from(String(entry.size))]);
  if (entry.uid > MAX_OCTAL_7) pax.push(['uid', Buffer.from(String(entry.uid))]);
  if (entry.gid > MAX_OCTAL_7) pax.push(['gid', Buffer.from(String(entry.gid))]);
  if (seconds < 0 || seconds > MAX_OCTAL_11) pax.push(['mtime', Buffer.from(String(seconds))]);

  // From Node's shared pool: one header per entry, no allocation of its own to collect.
  const header = Buffer.allocUnsafe(BLOCK).fill(0);
  name.copy(header, 0, 0, Math.min(name.length, 100));
  writeOctal(header, 100, 8, entry.mode & 0o7777);
  writeOctal(header, 108, 8, entry.uid > MAX_OCTAL_7 ? 0 : entry.uid);
  writeOctal(header, 116, 8, entry.gid > MAX_OCTAL_7 ? 0 : entry.gid);
  writeOctal(header, 124, 12, entry.size > MAX_OCTAL_11 ? 0 : entry.size);
  writeOctal(header, 136, 12, Math.min(Math.max(seconds, 0), MAX_OCTAL_11));
  header.write(TYPEFLAG[entry.type], 156, 'latin1');
  if (linkField.length > 0) linkField.copy(header, 157, 0, Math.min(linkField.length, 100));
  header.write('ustar\u000000', 257, 'latin1');
  prefix.copy(header, 345, 0, Math.min(prefix.length, 155));
  writeChecksum(header);
  if (pax.length === 0 && gnu.length === 0) return header;
  if (pax.length === 0) return Buffer.concat([...gnu, header]);

  const data = encodePaxRecords(pax);
  const paxHeader = Buffer.alloc(BLOCK);
  // The pax header's own name is informational only; keep it short and ASCII.
  paxHeader.write('PaxHeader/' + asciiFallback(pathBytes, 80).toString('latin1'), 0, 'latin1');
  writeOctal(paxHeader, 100, 8, 0o644);
  writeOctal(paxHeader, 108, 8, 0);
  writeOctal(paxHeader, 116, 8, 0);
  writeOctal(paxHeader, 124, 12, data.length);
  writeOctal(paxHeader, 136, 12, Math.min(Math.max(seconds, 0), MAX_OCTAL_11));
  paxHeader.write('x', 156, 'latin1');
  paxHeader.write('ustar\u000000', 257, 'latin1');
  writeChecksum(paxHeader);
  return Buffer.concat([...gnu, paxHeader, data, Buffer.alloc(padding(data.length)), header]);
}

/** A GNU long name ('L') or long link name ('K'): the bytes, NUL-terminated, as the data of an
 *  entry named "././@LongLink", as GNU tar writes it. */
function gnuLongEntry(type: 'L' | 'K', bytes: Buffer): Buffer {
  const size = bytes.length + 1;
  const header = Buffer.alloc(BLOCK);
  header.write('././@LongLink', 0, 'latin1');
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, 0);
  header.write(type, 156, 'latin1');
  header.write('ustar\u000000', 257, 'latin1');
  writeChecksum(header);
  return Buffer.concat([header, bytes, Buffer.alloc(1 + padding(size))]);
}

/** Zero bytes needed after `size` content bytes to reach a block boundary. */
export function padding(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** "%d key=value\n", where %d counts the whole record including itself; values are bytes. */
function encodePaxRecords(records: [string, Buffer][]): Buffer {
  const parts = records.map(([key, value]) => {
    const bodyLength = key.length + value.length + 3; // " ", "=" and "\n"
    let length = bodyLength + String(bodyLength).length;
    if (String(length).length !== String(bodyLength).length) length = bodyLength + String(length).length;
    return Buffer.concat([Buffer.from(`${length} ${key}=`, 'latin1'), value, NEWLINE]);
  });
  return Buffer.concat(parts);
}

/** ustar's name (100 bytes) + prefix (155 bytes) split at a '/', or undefined if impossible. */
function splitUstarName(path: Buffer): [Buffer, Buffer] | undefined {
  if (path.length <= 100) return [NO_BYTES, path];
  if (path.length > 256) return undefined;
  // The prefix must end at a '/' that is not part of the name; try the split that fits.
  for (let i = path.length - 1; i >= 0; i--) {
    if (path[i] !== 0x2f) continue;
    const name = path.subarray(i + 1);
    const prefix = path.subarray(0, i);
    if (name.length > 100) return undefined;
    if (prefix.length <= 155 && name.length > 0) return [prefix, name];
  }
  return undefined;
}

function isAscii(bytes: Buffer): boolean {
  for (const b of bytes) if (b > 0x7e || b < 0x20) return false;
  return true;
}

/** A truncated ASCII stand-in for readers that ignore pax (the pax record wins otherwise). */
function asciiFallback(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max && isAscii(bytes)) return bytes;
  const out = Buffer.from(bytes.subarray(0, max));
  for (let i = 0; i < out.length; i++) if (out[i]! > 0x7e || out[i]! < 0x20) out[i] = 0x5f;
  return out;
}

/** `value` as width - 1 zero-padded octal digits and a NUL, written byte by byte: several
 *  fields per entry, and strings for each would be garbage by the tens of MB on a large tree. */
function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block[offset + width - 1] = 0;
  for (let i = offset + width - 2; i >= offset; i--) {
    block[i] = 0x30 + (value % 8);
    value = Math.floor(value / 8);
  }
}

function writeChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  writeOctal(block, 148, 7, sum);
  block[155] = 0x20;
}
