// Restore: verify first, then write. The archive is downloaded into a staging directory beside
// the target while its SHA-256 and size are computed; only when both match the record is a
// single entry extracted (from the staged file, into the staging directory), and the result
// moved into place. A replaced or corrupt object therefore writes nothing anywhere, and a
// hostile or broken archive leaves the target exactly as it was.
import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  fchmodSync,
  futimesSync,
  openSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../../common/validate.js';
import type { RestoredSymlink } from '../tree/confined-tree.js';
import { CorruptArchiveError } from '../tree/entry-errors.js';
import { createHashCounter, type StreamDigest } from '../streams/hash.js';
import { timeouts } from '../retry.js';
import { safeExtract } from './extract.js';
import { DecryptionError, decryptStaged } from './encrypted.js';
import type { RestoreOptionNames } from './option-names.js';
import { freeBytes, withStaging } from './staging.js';

export class IntegrityError extends Error {
  override name = 'IntegrityError';
}

/** Room left on the target's file system, whatever the archive says. */
const FREE_SPACE_MARGIN = 64 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

export interface RestoreOptions {
  /** Opens the archive's bytes (an S3 GetObject body or the Worker's download route);
   *  `signal` abandons the request. */
  open: (signal: AbortSignal) => Promise<Readable>;
  compression: Compression;
  /** From the backup's metadata record; undefined only when the user accepted a record
   *  without a hash (allowed unverified): the archive is then hashed, not compared. */
  expected: { sha256: string; size: number } | undefined;
  target: string;
  /** Replace a non-empty target. */
  force?: boolean;
  /** The most the archive may expand to (default: the free space left minus a margin). */
  maxBytes?: number;
  /** How the caller spells these options, for the messages that name them. */
  names: RestoreOptionNames;
  /** age identities for an encrypted archive: the staged, verified file is decrypted while it
   *  is extracted. */
  identities?: string[];
  /** Called as the archive is downloaded, then as it is extracted, for a progress line. */
  onProgress?: (progress: RestoreProgress) => void;
  /** Works on the extracted tree in the staging directory before it is installed (the
   *  metadata export is rendered there): an error leaves the target as it was. */
  prepare?: (tree: string) => Promise<void>;
}

/** How far a restore is: `done` archive bytes of `total` downloaded, then read back from the
 *  staged copy and extracted (`entries` so far). `total` is unknown when the record has no size. */
export interface RestoreProgress {
  phase: 'download' | 'extract';
  done: number;
  total?: number;
  entries: number;
}

export interface RestoreResult {
  target: string;
  entries: number;
  sha256: string;
  size: number;
  /** Whether sha256 and size were compared with a record (false: only computed). */
  compared: boolean;
  symlinks: RestoredSymlink[];
}

/** zlib and zstd report bad input with Z_* / ZSTD codes; the tar reader with CorruptArchiveError. */
const isDecodeError = (error: unknown): boolean =>
  error instanceof CorruptArchiveError ||
  /^(Z_|ERR_ZSTD|ZSTD)/.test(String((error as { code?: unknown })?.code ?? ''));

/** A download that stalled or was cut: a network failure (the CLI's exit code 4), nothing written. */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

/** Downloads `open()` to `file`, hashing it; refuses it unless it is exactly what was recorded
 *  (when nothing was recorded, the digest is only returned). */
export async function downloadVerified(
  open: (signal: AbortSignal) => Promise<Readable>,
  file: string,
  expected: { sha256: string; size: number } | undefined,
  what: string,
  target: string,
  onProgress?: (received: number) => void,
): Promise<StreamDigest> {
  const free = freeBytes(join(file, '..'));
  if (expected && expected.size + FREE_SPACE_MARGIN > free) {
    throw new Error(
      `Not enough space to stage ${what} of ${expected.size} bytes beside ${target} (${free} bytes free): nothing was written`,
    );
  }
  const counter = createHashCounter();
  let received = 0;
  const failed = (cause: string): Error =>
    new DownloadError(
      `The download of ${what.replace(/^The /, 'the ')} ${cause} after ${received} of ${expected?.size ?? '?'} bytes. ` +
        `Nothing was written: ${target} was left as it was.`,
    );
  // The same idle timeout as every other request (retry.ts), for the Worker's stream too.
  const stall = timeouts().idleMs;
  // Given up on, a request is aborted too, or its socket would keep the process alive.
  const abandon = new AbortController();
  const source = await withDeadline(open(abandon.signal), stall, () => {
    abandon.abort();
    return failed(`got no answer for ${stall / 1000} s`);
  });
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      timer.refresh();
      onProgress?.(received);
      callback(null, chunk);
    },
  });
  const timer = setTimeout(() => guard.destroy(failed(`stalled: no byte for ${stall / 1000} s`)), stall);
  try {
    await pipeline(source, guard, counter.transform, createWriteStream(file));
  } catch (error) {
    if ((error as Error).message.startsWith('The download of')) throw error;
    throw failed(`failed (${(error as Error).message || (error as Error).name})`);
  } finally {
    clearTimeout(timer);
  }
  const { sha256, size } = counter.digest();
  if (expected && (size !== expected.size || sha256 !== expected.sha256)) {
    throw new IntegrityError(
      `${what} does not match its metadata: expected ${expected.size} bytes with SHA-256 ${expected.sha256}, ` +
        `read ${size} bytes with SHA-256 ${sha256}. The object is corrupt or was replaced. ` +
        `Nothing was written: ${target} was left as it was.`,
    );
  }
  return { sha256, size };
}

async function withDeadline<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), ms)));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export async function restoreArchive(options: RestoreOptions): Promise<RestoreResult> {
  const force = { given: options.force, name: options.names.force };
  return withStaging(options.target, force, async ({ target, staging, install }) => {
    const archive = join(staging, 'archive');
    const { onProgress } = options;
    const digest = await downloadVerified(
      options.open,
      archive,
      options.expected,
      'The archive',
      target,
      onProgress &&
        ((done) => onProgress({ phase: 'download', done, total: options.expected?.size, entries: 0 })),
    );
    const tree = join(staging, 'tree');
    await mkdir(tree);
    const maxBytes = options.maxBytes ?? Math.max(0, freeBytes(tree) - FREE_SPACE_MARGIN);
    const limitSource =
      options.maxBytes === undefined
        ? `the free space of the target's file system less 64 MiB; ${options.names.maxBytes} sets another`
        : options.names.maxBytes;
    let extracted;
    const staged = createReadStream(archive, { highWaterMark: READ_CHUNK });
    const tar = options.identities
      ? await decryptStaged(staged, options.identities, 'The archive', target)
      : staged;
    try {
      extracted = await safeExtract(tar, options.compression, tree, {
        maxBytes,
        limitSource,
        onProgress:
          onProgress &&
          (({ entries }) =>
            onProgress({ phase: 'extract', done: staged.bytesRead, total: digest.size, entries })),
      });
    } catch (error) {
      // Recorded bytes that fail age's authentication: changed after encryption, the record made
      // to match. What was extracted stays in the staging directory, which is removed.
      if (error instanceof DecryptionError) {
        throw new IntegrityError(
          `The archive matches its record but fails its decryption: ${error.message}. Nothing was restored: ${target} was left as it was.`,
        );
      }
      if (!isDecodeError(error)) throw error; // a refused entry says so itself
      // The bytes are the recorded ones, so the archive was stored broken (or is not tar).
      throw new IntegrityError(
        `The archive matches its record but cannot be read (${(error as Error).message}). Nothing was restored: ${target} was left as it was.`,
      );
    }
    await options.prepare?.(tree);
    await install(tree);
    if (extracted.root) applyRootEntry(target, extracted.root);
    return {
      target,
      entries: extracted.entries,
      symlinks: extracted.symlinks,
      ...digest,
      compared: options.expected !== undefined,
    };
  });
}

/** Gives the restored target the archive root's mode and time, as `tar -x` gives its
 *  directory: after the move into place, since a read-only directory could not be moved. */
function applyRootEntry(target: string, root: { mode: number; mtime: number }): void {
  const fd = openSync(
    target,
    constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0),
  );
  try {
    fchmodSync(fd, root.mode);
    futimesSync(fd, root.mtime, root.mtime);
  } finally {
    closeSync(fd);
  }
}

/** The restore's account of the symbolic links it recreated, for the log. */
export function describeSymlinks(symlinks: RestoredSymlink[]): string[] {
  if (symlinks.length === 0) return [];
  return [
    `${symlinks.length} symbolic link${symlinks.length === 1 ? '' : 's'} restored verbatim (nothing was written through them):`,
    ...symlinks.map(({ path, target }) => `  ${path} -> ${target}`),
  ];
}
