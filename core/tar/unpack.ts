// A streaming tar reader for restore: ustar, pax, GNU long names and GNU sparse files (what our
// producer, GNU tar, bsdtar, Python's tarfile and the `tar` package write). It only parses:
// every name is normalised (entry-name.ts) and every file-system change goes through a
// ConfinedTree, which keeps the restore inside its directory by construction. Writes are
// synchronous system calls, as GNU tar makes them: one open, write and close per file and no
// round trip through the thread pool, so extraction keeps up with the decompressor.
// Names are read as bytes (latin1 byte strings, see entry-name.ts), whichever header holds
// them, and restored with those bytes, as GNU tar restores them: ustar fields, GNU long names
// and pax records (UTF-8 by the standard, raw bytes when GNU tar writes a name that is not).
import { closeSync, ftruncateSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ConfinedTree, type RestoredSymlink } from '../tree/confined-tree.js';
import { normaliseName, symlinkTargetReason } from '../tree/entry-name.js';
import { CorruptArchiveError, UnsafeArchiveError } from '../tree/entry-errors.js';
import { BLOCK, padding } from './header.js';
import {
  OLD_GNU,
  DataMapReader,
  checkedMap,
  oldGnuRegions,
  paxRegions,
  parseCount,
  type Region,
} from './sparse.js';

/** Extension data (pax and GNU long-name/long-link headers) one entry may have, in total:
 *  no real name or record needs more, and stacked headers must not pile up in memory. */
export const MAX_EXTENSION_BYTES = 1024 * 1024;

interface Header {
  name: string;
  typeflag: string;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
  block: Buffer;
}

function parseNumber(field: Buffer): number {
  // GNU base-256 for values that do not fit the octal digits; negative ones are refused.
  if (field[0]! & 0x80) {
    if (field[0] === 0xff) throw new CorruptArchiveError('a negative number in a tar header');
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new CorruptArchiveError('a number too large in a tar header');
    return value;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new CorruptArchiveError(
      `invalid number "${text.slice(0, 20)}" in a tar header (not a tar archive?)`,
    );
  return parseInt(text, 8);
}

const cString = (field: Buffer): string => {
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('latin1');
};

function parseHeader(block: Buffer): Header {
  // GNU tar accepts the checksum summed over signed or unsigned bytes; so do we.
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += block[i]!;
    signed += block[i]! < 128 ? block[i]! : block[i]! - 256;
  }
  const field = block
    .subarray(148, 156)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  const checksum = /^[0-7]{1,8}$/.test(field) ? parseInt(field, 8) : NaN;
  if (checksum !== unsigned && checksum !== signed)
    throw new CorruptArchiveError('tar header checksum mismatch (corrupt, or not a tar archive)');
  const name = cString(block.subarray(0, 100));
  // POSIX ustar has a name prefix at 345; GNU's "ustar  " keeps times and sparse data there.
  const posix = block.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = posix ? cString(block.subarray(345, 500)) : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    typeflag: String.fromCharCode(block[156]!),
    mode: parseNumber(block.subarray(100, 108)),
    size: parseNumber(block.subarray(124, 136)),
    mtime: parseNumber(block.subarray(136, 148)),
    linkname: cString(block.subarray(157, 257)),
    block,
  };
}

/** pax records, "<length> <key>=<value>\n", in order (sparse 0.0 repeats its keys). */
function parsePax(data: Buffer): [string, string][] {
  const records: [string, string][] = [];
  let at = 0;
  while (at < data.length && data[at] !== 0) {
    const space = data.indexOf(0x20, at);
    const length = space < 0 ? NaN : Number(data.subarray(at, space).toString('latin1'));
    if (
      !Number.isInteger(length) ||
      length <= 0 ||
      at + length > data.length ||
      data[at + length - 1] !== 0x0a
    ) {
      throw new CorruptArchiveError('invalid pax record');
    }
    // As bytes: keys and numbers are ASCII, and names keep their bytes.
    const record = data.subarray(space + 1, at + length - 1).toString('latin1');
    const equals = record.indexOf('=');
    if (equals <= 0) throw new CorruptArchiveError('invalid pax record');
    records.push([record.slice(0, equals), record.slice(equals + 1)]);
    at += length;
  }
  return records;
}

const REFUSED_TYPES: Record<string, string> = {
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
  M: 'a multi-volume continuation',
};

/** Where an entry's data bytes go, and what happens when they are all there. */
interface Body {
  remaining: number;
  write(chunk: Buffer, from: number, length: number): void;
  end(): void;
}

/** A Writable of tar bytes that extracts into `root`, an existing, empty directory. */
export class TarExtractor extends Writable {
  symlinks: RestoredSymlink[] = [];
  private readonly tree: ConfinedTree;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  /** Entries read, the archive's root included. */
  private headers = 0;
  private body: Body | undefined;
  private skip = 0;
  /** What the extension headers before the next entry said. */
  private pax: [string, string][] = [];
  /** Their data bytes, against MAX_EXTENSION_BYTES. */
  private extensionBytes = 0;
  private longName: string | undefined;
  private longLink: string | undefined;
  /** An old GNU sparse header waiting for its extension blocks. */
  private sparseHeader: { header: Header; regions: Region[] } | undefined;
  /** The open file and where its bytes go. */
  private file: { fd: number; regions: Region[]; index: number; left: number; position: number } | undefined;

  constructor(root: string, maxBytes?: number, limitSource?: string) {
    super();
    this.tree = new ConfinedTree(root, maxBytes, limitSource);
  }

  get entries(): number {
    return this.tree.entries;
  }

  get bytes(): number {
    return this.tree.bytes;
  }

  /** The mode and time of the archive's root entry, when it has one. */
  get rootEntry(): { mode: number; mtime: number } | undefined {
    return this.tree.rootEntry;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      this.closeFile();
      callback(error as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Without the end-of-archive blocks, an archive that stops between two entries is whole
    // (GNU tar reads it so; the record's size and hash prove completeness).
    const between =
      !this.body && this.skip === 0 && this.pendingBytes === 0 && !this.sparseHeader && !this.hasExtensions();
    if (!this.ended && !between)
      return callback(new CorruptArchiveError('the archive ends in the middle of an entry (truncated)'));
    if (this.headers === 0)
      return callback(new CorruptArchiveError('the archive holds no entry (empty, or not a tar archive)'));
    try {
      this.symlinks = this.tree.finish();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeFile();
    callback(error);
  }

  private consume(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.ended) {
      if (this.body) {
        const n = Math.min(this.body.remaining, chunk.length - at);
        this.body.remaining -= n;
        this.body.write(chunk, at, n);
        at += n;
        if (this.body.remaining === 0) {
          const done = this.body;
          this.body = undefined;
          done.end();
        }
      } else if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        at += n;
        this.skip -= n;
      } else {
        // A header: gather a whole block first.
        const n = Math.min(BLOCK - this.pendingBytes, chunk.length - at);
        this.pending.push(chunk.subarray(at, at + n));
        this.pendingBytes += n;
        at += n;
        if (this.pendingBytes === BLOCK) {
          const block = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
          this.pending = [];
          this.pendingBytes = 0;
          if (this.sparseHeader) this.sparseExtension(block);
          else this.header(block);
        }
      }
    }
  }

  /** An extension header's data, counted against the entry's total. */
  private extension(size: number, what: string, done: (data: Buffer) => void): void {
    this.extensionBytes += size;
    if (this.extensionBytes > MAX_EXTENSION_BYTES)
      throw new CorruptArchiveError(
        `${what} brings the extension headers of one entry to ${this.extensionBytes} bytes ` +
          `(pax, GNU long name and long link data; more than ${MAX_EXTENSION_BYTES} bytes in total are refused)`,
      );
    this.collect(size, what, done);
  }

  /** Collects `size` data bytes (and skips their padding), then hands them on. */
  private collect(size: number, what: string, done: (data: Buffer) => void): void {
    const parts: Buffer[] = [];
    const end = (): void => {
      this.skip = padding(size);
      done(Buffer.concat(parts));
    };
    if (size === 0) return end();
    this.body = {
      remaining: size,
      // Copied: the chunk may be a reused buffer, and this data outlives it.
      write: (chunk, from, length) => parts.push(Buffer.from(chunk.subarray(from, from + length))),
      end,
    };
  }

  private hasExtensions(): boolean {
    return this.pax.length > 0 || this.longName !== undefined || this.longLink !== undefined;
  }

  private header(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      if (this.hasExtensions()) throw new CorruptArchiveError('an extension header without its entry');
      this.ended = true; // the end-of-archive marker; what follows is padding
      return;
    }
    const header = parseHeader(block);
    switch (header.typeflag) {
      case 'x':
        return this.extension(header.size, 'a pax header', (data) => {
          for (const record of parsePax(data)) this.pax.push(record);
        });
      case 'g':
        // Global pax records (a comment, a charset) describe no entry: read, checked, unused.
        return this.extension(header.size, 'a global pax header', (data) => void parsePax(data));
      case 'L':
        return this.extension(header.size, 'a GNU long name', (data) => (this.longName = cString(data)));
      case 'K':
        return this.extension(header.size, 'a GNU long link name', (data) => (this.longLink = cString(data)));
      case 'V': // a GNU volume label names no entry
        this.skip = header.size + padding(header.size);
        return;
      case 'S':
        this.sparseHeader = {
          header,
          regions: oldGnuRegions(block, OLD_GNU.headerMap, OLD_GNU.headerEntries, parseNumber),
        };
        if (block[OLD_GNU.headerExtended] === 0) this.oldGnuSparseReady();
        return;
    }
    this.entry(header);
  }

  private sparseExtension(block: Buffer): void {
    const sparse = this.sparseHeader!;
    sparse.regions.push(...oldGnuRegions(block, 0, OLD_GNU.extensionEntries, parseNumber));
    if (sparse.regions.length * 24 > MAX_EXTENSION_BYTES)
      throw new CorruptArchiveError('a sparse map larger than 1 MiB');
    if (block[OLD_GNU.extensionExtended] === 0) this.oldGnuSparseReady();
  }

  private oldGnuSparseReady(): void {
    const { header, regions } = this.sparseHeader!;
    this.sparseHeader = undefined;
    const realSize = parseNumber(header.block.subarray(OLD_GNU.realSize, OLD_GNU.realSize + 12));
    this.entry(header, checkedMap(regions, realSize, header.size));
  }

  /** One entry, with what its extension headers said. */
  private entry(header: Header, oldGnuSparse?: { regions: Region[]; realSize: number }): void {
    const pax = new Map(this.pax);
    const records = this.pax;
    const rawName = pax.get('GNU.sparse.name') ?? pax.get('path') ?? this.longName ?? header.name;
    const rawLink = pax.get('linkpath') ?? this.longLink ?? header.linkname;
    this.pax = [];
    this.extensionBytes = 0;
    this.longName = this.longLink = undefined;
    this.headers++;
    const size = pax.has('size') ? parseCount(pax.get('size')!, 'pax size') : header.size;
    const mtime = pax.has('mtime') ? paxTime(pax.get('mtime')!) : header.mtime;
    // Old tar wrote directories as regular files whose name ends in "/".
    const type = header.typeflag === '\0' && rawName.endsWith('/') ? '5' : header.typeflag;

    const named = normaliseName(rawName);
    if ('reason' in named) throw new UnsafeArchiveError(rawName, named.reason);
    const name = named.name;
    const refused = REFUSED_TYPES[type];
    if (refused) throw new UnsafeArchiveError(name, `${refused} (type ${type}) is not restored`);
    if (name === '' && type !== '5') throw new UnsafeArchiveError('.', 'the archive root is not a directory');

    switch (type) {
      case '0':
      case '\0':
      case '7':
      case 'S': {
        const sparse = oldGnuSparse ?? this.paxSparse(pax, records, size);
        if (sparse === 'map-in-data') return this.sparseDataMap(name, header.mode, mtime, size, pax);
        return this.writeFile(name, header.mode, mtime, size, sparse);
      }
      case '5':
      case 'D': // a GNU dump directory: its data lists names, which the entries that follow restore
        this.tree.directory(name, header.mode, mtime);
        break;
      case '1': {
        const target = normaliseName(rawLink, 'hard link target');
        if ('reason' in target) throw new UnsafeArchiveError(name, target.reason);
        this.tree.hardLink(name, target.name);
        break;
      }
      case '2': {
        const reason = symlinkTargetReason(rawLink);
        if (reason) throw new UnsafeArchiveError(name, reason);
        this.tree.symlink(name, rawLink, mtime);
        break;
      }
      default:
        throw new UnsafeArchiveError(
          name,
          `an entry of unknown type ${JSON.stringify(type)} is not restored`,
        );
    }
    this.skip = size + padding(size); // data of a non-file entry (pax allows it) is not used
  }

  /** The sparse map of a pax 0.0 or 0.1 entry, 'map-in-data' for 1.0, or undefined. */
  private paxSparse(
    pax: Map<string, string>,
    records: [string, string][],
    size: number,
  ): { regions: Region[]; realSize: number } | 'map-in-data' | undefined {
    if (pax.get('GNU.sparse.major') === '1' && pax.get('GNU.sparse.minor') === '0') return 'map-in-data';
    const regions = paxRegions(records);
    if (!regions) return undefined;
    const realSize = parseCount(pax.get('GNU.sparse.size') ?? '', 'GNU.sparse.size');
    return checkedMap(regions, realSize, size);
  }

  /** pax sparse 1.0: read the map at the start of the data, block by block, then the file. */
  private sparseDataMap(
    name: string,
    mode: number,
    mtime: number,
    size: number,
    pax: Map<string, string>,
  ): void {
    const realSize = parseCount(pax.get('GNU.sparse.realsize') ?? '', 'GNU.sparse.realsize');
    const reader = new DataMapReader();
    let read = 0;
    const readBlock = (): void => {
      if (read >= size) throw new CorruptArchiveError('a sparse map longer than its entry');
      read += BLOCK;
      this.collect(BLOCK, 'a sparse map', (block) => {
        const map = reader.push(block);
        if (!map) return readBlock();
        this.writeFile(
          name,
          mode,
          mtime,
          size - map.bytes,
          checkedMap(map.regions, realSize, size - map.bytes),
        );
      });
    };
    readBlock();
  }

  private writeFile(
    name: string,
    mode: number,
    mtime: number,
    stored: number,
    sparse?: { regions: Region[]; realSize: number },
  ): void {
    const realSize = sparse?.realSize ?? stored;
    const regions = sparse?.regions ?? (stored > 0 ? [{ offset: 0, size: stored }] : []);
    const fd = this.tree.openFile(name, realSize);
    this.file = { fd, regions, index: 0, left: regions[0]?.size ?? 0, position: regions[0]?.offset ?? 0 };
    const end = (): void => {
      const file = this.file!;
      this.file = undefined;
      try {
        if (sparse) ftruncateSync(file.fd, realSize);
      } catch (error) {
        this.tree.closeFile(file.fd, mode, mtime);
        throw error;
      }
      this.tree.closeFile(file.fd, mode, mtime);
      this.skip = padding(stored);
    };
    if (stored === 0) return end();
    this.body = {
      remaining: stored,
      write: (chunk, from, length) => this.writeData(chunk, from, length),
      end,
    };
  }

  /** The file's next bytes, each region at its offset. */
  private writeData(chunk: Buffer, from: number, length: number): void {
    const file = this.file!;
    while (length > 0) {
      const n = Math.min(length, file.left);
      if (n === 0) throw new CorruptArchiveError('an entry holds more data than its sparse map');
      writeSync(file.fd, chunk, from, n, file.position);
      from += n;
      length -= n;
      file.position += n;
      file.left -= n;
      if (file.left === 0 && ++file.index < file.regions.length) {
        file.position = file.regions[file.index]!.offset;
        file.left = file.regions[file.index]!.size;
      }
    }
  }

  private closeFile(): void {
    if (!this.file) return;
    try {
      closeSync(this.file.fd);
    } catch {
      // already closed
    }
    this.file = undefined;
  }
}

/** pax times are decimal seconds, with a fraction. */
function paxTime(text: string): number {
  const value = /^-?\d{1,16}(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) throw new CorruptArchiveError(`invalid pax mtime "${text.slice(0, 40)}"`);
  return value;
}
