// Restore: verify first, then write. The archive is downloaded into a staging directory beside
// the target while its SHA-256 and size are computed; only when both match the record is a
// single entry extracted (from the staged file, into the staging directory), and the result
// moved into place. A replaced or corrupt object therefore writes nothing anywhere, and a
// hostile or broken archive leaves the target exactly as it was.
import { closeSync, constants, createReadStream, fchmodSync, futimesSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../../common/validate.js';
import type { RestoredSymlink } from '../tree/confined-tree.js';
import { CorruptArchiveError } from '../tree/entry-errors.js';
import type { StreamDigest } from '../streams/hash.js';
import { ObjectChangedError, type OpenedObject, type ResumeFrom } from '../r2/object-source.js';
import { retryDelay, timeouts } from '../retry.js';
import { safeExtract } from './extract.js';
import { DecryptionError, decryptStaged } from './encrypted.js';
import type { RestoreOptionNames } from './option-names.js';
import { StagedFile } from './staged-file.js';
import { freeBytes, withStaging } from './staging.js';

export class IntegrityError extends Error {
  override name = 'IntegrityError';
}

/** Room left on the target's file system, whatever the archive says. */
const FREE_SPACE_MARGIN = 64 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

export interface RestoreOptions {
  /** Opens the archive's bytes (an S3 GetObject body or the Worker's download route);
   *  `signal` abandons the request; `from` resumes a cut download (objectOpener). */
  open: OpenArchive;
  /** The archive's object key, for the warning that a download resumed. */
  object?: string;
  /** Where that warning goes. */
  warn?: (message: string) => void;
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

/** Opens an object's bytes: from its start, or (`from`) the rest of a cut download, of the same
 *  ETag only (objectOpener). A bare stream, or an answer without an ETag, is never resumed:
 *  nothing would pin the rest to the object the first bytes came from. */
export type OpenArchive = (signal: AbortSignal, from?: ResumeFrom) => Promise<OpenedObject | Readable>;

/** Attempts at one download, the first included: each after a cut resumes where it stopped. */
export const DOWNLOAD_ATTEMPTS = 5;

export interface DownloadOptions {
  /** Called with the bytes staged so far, for a progress line. */
  onProgress?: (received: number) => void;
  /** Where a resumed attempt is said, one warning each. */
  warn?: (message: string) => void;
  /** The object's key, for that warning. */
  object?: string;
}

/** Downloads `open()` to `file`, hashing it; refuses it unless it is exactly what was recorded
 *  (when nothing was recorded, the digest is only returned). A download cut after some bytes
 *  is resumed from there (same ETag), appending to the file, up to DOWNLOAD_ATTEMPTS in all. */
export async function downloadVerified(
  open: OpenArchive,
  file: string,
  expected: { sha256: string; size: number } | undefined,
  what: string,
  target: string,
  options: DownloadOptions = {},
): Promise<StreamDigest> {
  const free = freeBytes(join(file, '..'));
  if (expected && expected.size + FREE_SPACE_MARGIN > free) {
    throw new Error(
      `Not enough space to stage ${what} of ${expected.size} bytes beside ${target} (${free} bytes free): nothing was written`,
    );
  }
  const staged = new StagedFile(file);
  let digest: StreamDigest;
  try {
    await downloadResuming(open, staged, { what, target, total: expected?.size, ...options });
    digest = staged.digest();
  } finally {
    staged.close();
  }
  const { sha256, size } = digest;
  if (expected && (size !== expected.size || sha256 !== expected.sha256)) {
    throw new IntegrityError(
      `${what} does not match its metadata: expected ${expected.size} bytes with SHA-256 ${expected.sha256}, ` +
        `read ${size} bytes with SHA-256 ${sha256}. The object is corrupt or was replaced. ` +
        `Nothing was written: ${target} was left as it was.`,
    );
  }
  return { sha256, size };
}

/** One attempt's end: complete, or cut (`cause`), `final` when a retry cannot help (the disk). */
type Attempt = { etag?: string } & ({ done: true } | { done: false; cause: string; final?: boolean });

/** Why an attempt was abandoned: no answer, or no byte, within the idle timeout. */
class Cut extends Error {}

async function downloadResuming(
  open: OpenArchive,
  staged: StagedFile,
  context: DownloadOptions & { what: string; target: string; total: number | undefined },
): Promise<void> {
  const { what, target, total, warn, object } = context;
  const the = what.replace(/^The /, 'the ');
  const bytes = (): string => `${staged.size} of ${total ?? '?'} bytes`;
  let etag: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const from = attempt === 1 ? undefined : { offset: staged.size, etag: etag! };
    let result: Attempt;
    try {
      result = await downloadAttempt(open, from, staged, context.onProgress);
    } catch (error) {
      if (!(error instanceof ObjectChangedError)) throw error;
      throw new IntegrityError(
        `${what} was replaced while it downloaded, after ${bytes()}: ${error.message}. ` +
          `Nothing was written: ${target} was left as it was.`,
      );
    }
    if (attempt === 1) etag = result.etag;
    if (result.done) return;
    if (result.final || etag === undefined || staged.size === 0 || attempt >= DOWNLOAD_ATTEMPTS) {
      const attempts = attempt > 1 ? ` in ${attempt} attempts, each resumed where the last stopped` : '';
      throw new DownloadError(
        `The download of ${the} ${result.cause} after ${bytes()}${attempts}. ` +
          `Nothing was written: ${target} was left as it was.`,
      );
    }
    warn?.(
      `the download of ${the}${object ? ` ${object}` : ''} ${result.cause} after ${bytes()}; ` +
        `resuming at byte ${staged.size}, attempt ${attempt + 1} of ${DOWNLOAD_ATTEMPTS}`,
    );
    await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt, undefined)));
  }
}

const describeError = (error: unknown): string => (error as Error)?.message || (error as Error)?.name;

/** Opens the object (from `from` when resuming) and appends what it answers to `staged`. */
async function downloadAttempt(
  open: OpenArchive,
  from: ResumeFrom | undefined,
  staged: StagedFile,
  onProgress: ((received: number) => void) | undefined,
): Promise<Attempt> {
  // The same idle timeout as every other request (retry.ts), for the Worker's stream too.
  const stall = timeouts().idleMs;
  // Given up on, a request is aborted too, or its socket would keep the process alive.
  const abandon = new AbortController();
  let opened: OpenedObject;
  try {
    const answer = await withDeadline(open(abandon.signal, from), stall, () => {
      abandon.abort();
      return new Cut(`got no answer for ${stall / 1000} s`);
    });
    opened = answer instanceof Readable ? { body: answer, etag: undefined } : answer;
  } catch (error) {
    if (error instanceof Cut) return { done: false, cause: error.message };
    // The first request's refusals (no such object, no access) are the caller's to report.
    if (!from || error instanceof ObjectChangedError) throw error;
    return { done: false, cause: `failed (${describeError(error)})` };
  }
  let received = staged.size;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      timer.refresh();
      onProgress?.(received);
      callback(null, chunk);
    },
  });
  const timer = setTimeout(() => guard.destroy(new Cut(`stalled: no byte for ${stall / 1000} s`)), stall);
  try {
    await pipeline(opened.body, guard, staged.sink());
    return { done: true, etag: opened.etag };
  } catch (error) {
    await staged.settled();
    const cause = error instanceof Cut ? error.message : `failed (${describeError(error)})`;
    return { done: false, cause, final: staged.writeError !== undefined, etag: opened.etag };
  } finally {
    clearTimeout(timer);
  }
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
    const digest = await downloadVerified(options.open, archive, options.expected, 'The archive', target, {
      onProgress:
        onProgress &&
        ((done) => onProgress({ phase: 'download', done, total: options.expected?.size, entries: 0 })),
      warn: options.warn,
      object: options.object,
    });
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
