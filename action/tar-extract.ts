// A streaming tar extractor for restore: ustar with pax and GNU long-name extensions (what our
// producer, GNU tar and the `tar` package write), regular files, directories, symbolic and hard
// links. It writes with synchronous system calls, as GNU tar does: one open, write and close
// per file and no round trip through the thread pool, so extraction keeps up with the
// decompressor. Safety: every entry passes `policy.reasonToRefuse` before anything is written,
// no entry goes into or through a symbolic link made by the archive (`a -> .` then `a/b -> ../x`
// would reach out), and files are opened with O_NOFOLLOW.
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  utimesSync,
  chmodSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BLOCK } from './tar-header.js';

export type ExtractEntryType = 'File' | 'Directory' | 'SymbolicLink' | 'Link';

export interface ExtractEntry {
  path: string;
  type: ExtractEntryType;
  linkpath?: string;
}

/** The bytes are not a well-formed tar archive: corrupt, truncated or not tar at all. */
export class CorruptArchiveError extends Error {
  override name = 'CorruptArchiveError';
}

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
// Never restore set-user-id or set-group-id bits from an archive.
const MODE_MASK = 0o1777;

interface Header {
  path: string;
  typeflag: string;
  mode: number;
  size: number;
  mtime: number;
  linkpath: string;
}

function parseNumber(field: Buffer): number {
  // GNU base-256 for values that do not fit the octal digits.
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new CorruptArchiveError(`invalid number "${text}" in a tar header`);
  return parseInt(text, 8);
}

const cString = (field: Buffer): string => {
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
};

function parseHeader(block: Buffer): Header {
  let sum = 8 * 0x20; // the checksum field counts as spaces
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i]!;
  if (parseNumber(block.subarray(148, 156)) !== sum)
    throw new CorruptArchiveError('tar header checksum mismatch');
  const name = cString(block.subarray(0, 100));
  const ustar = block.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = ustar ? cString(block.subarray(345, 500)) : '';
  return {
    path: prefix ? `${prefix}/${name}` : name,
    typeflag: String.fromCharCode(block[156]!),
    mode: parseNumber(block.subarray(100, 108)),
    size: parseNumber(block.subarray(124, 136)),
    mtime: parseNumber(block.subarray(136, 148)),
    linkpath: cString(block.subarray(157, 257)),
  };
}

/** pax records: "<length> <key>=<value>\n". */
function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (space < 0 || !Number.isInteger(length) || length <= 0 || at + length > data.length) {
      throw new CorruptArchiveError('invalid pax record');
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

const TYPES: Record<string, ExtractEntryType> = {
  '0': 'File',
  '\0': 'File',
  '7': 'File',
  '5': 'Directory',
  '2': 'SymbolicLink',
  '1': 'Link',
};
const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

export interface ExtractPolicy {
  /** Why an entry must not be extracted, or undefined. */
  reasonToRefuse: (entry: ExtractEntry) => string | undefined;
  /** The error a refusal throws. */
  refusal: (path: string, reason: string) => Error;
}

/** A Writable of tar bytes that extracts into `root`, an existing, empty directory. */
export class TarExtractor extends Writable {
  entries = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  /** The file being written, and how many of its bytes are still to come. */
  private file: { fd: number; remaining: number; skip: number; mode: number; mtime: number } | undefined;
  /** Skipping an entry's data (or padding), or collecting an extension header's data. */
  private skip = 0;
  private collect: { type: string; size: number; parts: Buffer[]; got: number } | undefined;
  private longPath: string | undefined;
  private longLink: string | undefined;
  private pax = new Map<string, string>();
  private readonly symlinks = new Set<string>();
  private readonly madeDirectories = new Set<string>(['']);
  private readonly directoryTimes: { path: string; mode: number; mtime: number }[] = [];

  constructor(
    private readonly root: string,
    private readonly policy: ExtractPolicy,
  ) {
    super();
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
    if (!this.ended)
      return callback(
        new CorruptArchiveError('the archive ends before its end-of-archive marker (truncated)'),
      );
    try {
      // Directory modes last (a read-only directory would refuse its entries), deepest first.
      for (const { path, mode, mtime } of this.directoryTimes.reverse()) {
        chmodSync(path, mode);
        utimesSync(path, mtime, mtime);
      }
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
      if (this.file) {
        const n = Math.min(this.file.remaining, chunk.length - at);
        writeSync(this.file.fd, chunk, at, n);
        at += n;
        this.file.remaining -= n;
        if (this.file.remaining === 0) this.finishFile();
      } else if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        at += n;
        this.skip -= n;
      } else if (this.collect) {
        const n = Math.min(this.collect.size - this.collect.got, chunk.length - at);
        this.collect.parts.push(chunk.subarray(at, at + n));
        this.collect.got += n;
        at += n;
        if (this.collect.got === this.collect.size) this.finishExtension();
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
          this.header(block);
        }
      }
    }
  }

  private header(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.ended = true; // the end-of-archive marker; what follows is padding
      return;
    }
    const header = parseHeader(block);
    if (
      header.typeflag === 'x' ||
      header.typeflag === 'g' ||
      header.typeflag === 'L' ||
      header.typeflag === 'K'
    ) {
      this.collect = { type: header.typeflag, size: header.size, parts: [], got: 0 };
      if (header.size === 0) this.finishExtension();
      return;
    }
    const type = TYPES[header.typeflag];
    const path = (this.pax.get('path') ?? this.longPath ?? header.path)
      .replace(/^(\.\/)+/, '')
      .replace(/\/+$/, '');
    const linkpath = this.pax.get('linkpath') ?? this.longLink ?? header.linkpath;
    const size = this.pax.has('size') ? Number(this.pax.get('size')) : header.size;
    const mtime = this.pax.has('mtime') ? Number(this.pax.get('mtime')) : header.mtime;
    this.pax = new Map();
    this.longPath = this.longLink = undefined;
    if (!type) {
      throw new CorruptArchiveError(
        `unsupported tar entry type "${header.typeflag}" for "${path}" (devices and FIFOs are not restored)`,
      );
    }
    const dataBlocks = type === 'File' ? 0 : size + padding(size);
    if (path === '' || path === '.') {
      this.skip = type === 'File' ? size + padding(size) : dataBlocks;
      return;
    }
    const reason = this.policy.reasonToRefuse({
      path,
      type,
      linkpath: type === 'File' || type === 'Directory' ? undefined : linkpath,
    });
    if (reason) throw this.policy.refusal(path, reason);
    this.refuseThroughSymlinks(path, path);
    const full = join(this.root, path);
    const mode = header.mode & MODE_MASK;
    this.makeParents(path);
    this.entries++;
    if (type === 'File') {
      const fd = openSync(full, FILE_FLAGS, 0o600);
      this.file = { fd, remaining: size, skip: padding(size), mode, mtime };
      if (size === 0) this.finishFile();
      return;
    }
    this.skip = dataBlocks;
    if (type === 'Directory') {
      if (!this.madeDirectories.has(path)) mkdirSync(full);
      this.madeDirectories.add(path);
      chmodSync(full, 0o700);
      this.directoryTimes.push({ path: full, mode, mtime });
    } else if (type === 'SymbolicLink') {
      symlinkSync(linkpath, full);
      this.symlinks.add(path);
      lutimesSync(full, mtime, mtime);
    } else {
      this.refuseThroughSymlinks(path, linkpath, true);
      linkSync(join(this.root, linkpath), full);
    }
  }

  private finishExtension(): void {
    const { type, parts } = this.collect!;
    const data = Buffer.concat(parts);
    this.skip = padding(this.collect!.size);
    this.collect = undefined;
    if (type === 'x') for (const [key, value] of parsePax(data)) this.pax.set(key, value);
    else if (type === 'L') this.longPath = cString(data);
    else if (type === 'K') this.longLink = cString(data);
  }

  private finishFile(): void {
    const { fd, skip, mode, mtime } = this.file!;
    fchmodSync(fd, mode);
    futimesSync(fd, mtime, mtime);
    closeSync(fd);
    this.file = undefined;
    this.skip = skip;
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

  /** `path` (the entry) must not reach `through` by a symbolic link this archive made. */
  private refuseThroughSymlinks(path: string, through: string, includingLast = false): void {
    const parts = through.split('/');
    for (let i = 1; i <= parts.length - (includingLast ? 0 : 1); i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.symlinks.has(prefix))
        throw this.policy.refusal(path, `goes through the archive's symbolic link "${prefix}"`);
    }
  }

  private makeParents(path: string): void {
    const parent = path.slice(0, Math.max(0, path.lastIndexOf('/')));
    if (this.madeDirectories.has(parent)) return;
    mkdirSync(join(this.root, parent), { recursive: true });
    for (
      let p = parent;
      p !== '' && !this.madeDirectories.has(p);
      p = p.slice(0, Math.max(0, p.lastIndexOf('/')))
    ) {
      this.madeDirectories.add(p);
    }
  }
}
