// Walks a directory tree and produces its tar archive as a sequence of ~1 MiB blocks.
//
// Why our own tar writer rather than the `tar` package: node-tar's Pack hangs on hard-linked
// files (isaacs/node-tar#460) and on sockets, both of which a checkout can hold, and its
// per-entry stream machinery costs more CPU than the compression on a tree of many small
// files. The format written here is plain POSIX ustar + pax (header.ts), which GNU tar
// reads; the tests extract every archive with GNU tar.
//
// The producer is a synchronous generator driven by a Readable's _read(): it does one block's
// worth of work (lstat, read) per call, so the file walk runs only as fast as the consumer
// reads (backpressure) and memory stays at a few blocks whatever the tree's size. Sync calls
// on the main thread keep libuv's thread pool free for the compressors; each step is short.
//
// Names are read as bytes and walked directory by directory (directory-cursor.ts), so that a
// name that is not valid UTF-8 and a path longer than PATH_MAX archive as GNU tar archives them.
import {
  closeSync,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  statSync,
  type Stats,
} from 'node:fs';
import { normalize } from 'node:path';
import { Readable } from 'node:stream';
import { BlockPool } from './block-pool.js';
import { DirectoryCursor, byteString, bytesOf, textOf } from '../tree/directory-cursor.js';
import type { ExcludeMatcher } from '../tree/excludes.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarEntryHeader } from './header.js';

export const DEFAULT_BLOCK_SIZE = 1 << 20;

export interface TarCounters {
  /** Entries that are not directories: files, symlinks, hard links. */
  files: number;
  /** Content bytes of the regular files read so far. */
  bytesIn: number;
}

export interface TarProducerOptions {
  root: string;
  exclude: ExcludeMatcher;
  blockSize?: number;
  /** Where blocks come from; whoever consumes them may give them back (see block-pool.ts). */
  pool?: BlockPool;
  /** Called for each entry left out that tar cannot store (sockets, FIFOs, devices). */
  onSkip?: (relativePath: string, reason: string) => void;
  /** Called after each block with the running counters. */
  onBlock?: (counters: TarCounters) => void;
}

/** The archive as a byte Readable; `counters` are final once it has ended. */
export function createTarReadable(options: TarProducerOptions): { stream: Readable; counters: TarCounters } {
  const counters: TarCounters = { files: 0, bytesIn: 0 };
  const pool = options.pool ?? new BlockPool(options.blockSize ?? DEFAULT_BLOCK_SIZE, 0);
  const blocks = produceTarBlocks(options, pool, counters);
  const stream = new Readable({
    highWaterMark: pool.size,
    read() {
      try {
        const next = blocks.next();
        if (next.done) this.push(null);
        else {
          options.onBlock?.(counters);
          this.push(next.value);
        }
      } catch (error) {
        this.destroy(error as Error);
      }
    },
    destroy(error, callback) {
      // Runs the generator's finally blocks: closes an open file.
      try {
        blocks.return(undefined);
      } catch {
        // the generator already failed
      }
      callback(error);
    },
  });
  return { stream, counters };
}

/** Fills fixed-size buffers with headers and contents; yields each when full. */
class BlockWriter {
  private block: Buffer;
  private used = 0;
  private readonly size: number;
  private readonly pool: BlockPool;
  constructor(pool: BlockPool) {
    this.pool = pool;
    this.size = pool.size;
    this.block = pool.take();
  }
  get free(): number {
    return this.size - this.used;
  }
  /** Copies bytes; returns how many fit. */
  put(bytes: Buffer, from = 0): number {
    const n = Math.min(bytes.length - from, this.free);
    bytes.copy(this.block, this.used, from, from + n);
    this.used += n;
    return n;
  }
  zeros(count: number): number {
    const n = Math.min(count, this.free);
    this.block.fill(0, this.used, this.used + n);
    this.used += n;
    return n;
  }
  /** Reads up to `length` bytes of fd at `position` straight into the block. */
  read(fd: number, length: number, position: number): number {
    const n = Math.min(length, this.free);
    if (n === 0) return 0;
    const got = readSync(fd, this.block, this.used, n, position);
    this.used += got;
    return got;
  }
  get full(): boolean {
    return this.used === this.size;
  }
  take(): Buffer {
    const out = this.used === this.size ? this.block : this.block.subarray(0, this.used);
    this.block = this.pool.take();
    this.used = 0;
    return out;
  }
}

function* produceTarBlocks(
  options: TarProducerOptions,
  pool: BlockPool,
  counters: TarCounters,
): Generator<Buffer> {
  const out = new BlockWriter(pool);
  /** dev:ino -> the first archive path (a byte string) of a file with several links. */
  const hardLinks = new Map<string, string>();

  // Most headers and paddings fit in the current block without filling it: copied there
  // directly, they need no generator of their own (a generator object per header and per
  // padding was a large share of the walk's garbage).
  function putNow(bytes: Buffer): boolean {
    if (bytes.length >= out.free) return false;
    out.put(bytes);
    return true;
  }

  function* putBytes(bytes: Buffer): Generator<Buffer> {
    let from = 0;
    while (from < bytes.length) {
      from += out.put(bytes, from);
      if (out.full) yield out.take();
    }
  }
  function* putZeros(count: number): Generator<Buffer> {
    while (count > 0) {
      count -= out.zeros(count);
      if (out.full) yield out.take();
    }
  }

  function* putFile(path: Buffer, relative: string, stats: Stats): Generator<Buffer> {
    const fd = openSync(path, 'r');
    try {
      let position = 0;
      while (position < stats.size) {
        const got = out.read(fd, stats.size - position, position);
        if (got === 0 && !out.full) {
          // The file shrank while we read it: pad to the size already written in the header
          // (GNU tar does the same), so the archive stays well-formed.
          options.onSkip?.(relative, `file shrank while being read; padded with zeros`);
          yield* putZeros(stats.size - position);
          break;
        }
        position += got;
        counters.bytesIn += got;
        if (out.full) yield out.take();
      }
    } finally {
      closeSync(fd);
    }
    const pad = padding(stats.size);
    if (pad < out.free) out.zeros(pad);
    else yield* putZeros(pad);
  }

  /** `prefix` is the directory's archive path, a byte string ('' or ending with '/'), and
   *  `textPrefix` the same as text, which exclude patterns match. */
  function* walk(directory: DirectoryCursor, prefix: string, textPrefix: string): Generator<Buffer> {
    // Sorted (by bytes), so that the same tree gives the same archive.
    const names = readdirSync(directory.here(), { encoding: 'latin1' }).sort();
    for (const name of names) {
      const relative = prefix + name;
      const text = textPrefix + textOf(name);
      if (options.exclude(text)) continue;
      const path = directory.path(name);
      const stats = lstatSync(path);
      const header: TarEntryHeader = {
        path: bytesOf(relative),
        type: 'file',
        mode: stats.mode,
        uid: stats.uid,
        gid: stats.gid,
        size: 0,
        mtimeMs: stats.mtimeMs,
      };
      if (stats.isDirectory()) {
        header.path = bytesOf(relative + '/');
        header.type = 'directory';
        const bytes = encodeHeader(header);
        if (!putNow(bytes)) yield* putBytes(bytes);
        const mark = directory.enter(name);
        try {
          yield* walk(directory, relative + '/', text + '/');
        } finally {
          directory.leave(mark);
        }
        continue;
      } else if (stats.isSymbolicLink()) {
        header.type = 'symlink';
        header.linkpath = readlinkSync(path, { encoding: 'buffer' });
      } else if (stats.isFile()) {
        const key = stats.nlink > 1 ? `${stats.dev}:${stats.ino}` : undefined;
        const first = key === undefined ? undefined : hardLinks.get(key);
        if (first !== undefined) {
          header.type = 'hardlink';
          header.linkpath = bytesOf(first);
        } else {
          if (key !== undefined) hardLinks.set(key, relative);
          counters.files++;
          header.size = stats.size;
          const bytes = encodeHeader(header);
          if (!putNow(bytes)) yield* putBytes(bytes);
          yield* putFile(path, text, stats);
          continue;
        }
      } else {
        options.onSkip?.(text, `${kindOf(stats)} skipped: tar archives store no ${kindOf(stats)}s`);
        continue;
      }
      counters.files++;
      const bytes = encodeHeader(header);
      if (!putNow(bytes)) yield* putBytes(bytes);
    }
  }

  const root = new DirectoryCursor(byteString(normalize(options.root)));
  try {
    // The root entry, as `tar -C root .` writes it: restore gives the target its mode and time.
    const top = statSync(options.root);
    yield* putBytes(
      encodeHeader({
        path: bytesOf('./'),
        type: 'directory',
        mode: top.mode,
        uid: top.uid,
        gid: top.gid,
        size: 0,
        mtimeMs: top.mtimeMs,
      }),
    );
    yield* walk(root, '', '');
  } finally {
    root.close();
  }
  yield* putBytes(END_OF_ARCHIVE);
  // GNU tar pads archives to 10 KiB records; readers do not need it, so neither do we.
  const rest = out.take();
  if (rest.length > 0) yield rest;
}

function kindOf(stats: Stats): string {
  if (stats.isSocket()) return 'socket';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'special file';
}
