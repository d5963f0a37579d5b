// Restore: stream an archive, check its SHA-256 and size while extracting into a staging
// directory beside the target, and move it into place only when both match. A corrupt or
// hostile archive therefore leaves the target exactly as it was.
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Compression } from '../common/validate.js';
import { createHashCounter } from './hash-stream.js';
import { safeExtract } from './safe-extract.js';
import { CorruptArchiveError } from './tar-extract.js';

export class IntegrityError extends Error {
  override name = 'IntegrityError';
}

export interface RestoreOptions {
  /** Opens the archive's bytes (an S3 GetObject body or the Worker's download route). */
  open: () => Promise<Readable>;
  compression: Compression;
  /** From the backup's metadata record. */
  expected: { sha256: string; size: number };
  target: string;
  /** Replace a non-empty target. */
  force?: boolean;
}

export interface RestoreResult {
  target: string;
  entries: number;
  sha256: string;
  size: number;
}

async function isEmptyOrMissing(directory: string): Promise<boolean> {
  try {
    return (await readdir(directory)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/** zlib and zstd report bad input with Z_* / ZSTD codes; the tar reader with CorruptArchiveError. */
const isDecodeError = (error: unknown): boolean =>
  error instanceof CorruptArchiveError ||
  /^(Z_|ERR_ZSTD|ZSTD)/.test(String((error as { code?: unknown })?.code ?? ''));

/** The absolute target, refused when not empty (unless forced), and a staging directory beside
 *  it (same file system, so moving it into place is a rename). */
export async function stageBeside(
  targetPath: string,
  force: boolean | undefined,
): Promise<{ target: string; staging: string }> {
  const target = resolve(targetPath);
  if (!force && !(await isEmptyOrMissing(target))) {
    throw new Error(
      `Target directory ${target} is not empty: choose an empty directory, or pass --force to replace it`,
    );
  }
  await mkdir(dirname(target), { recursive: true });
  return { target, staging: await mkdtemp(join(dirname(target), `.${basename(target)}.restore-`)) };
}

export async function restoreArchive(options: RestoreOptions): Promise<RestoreResult> {
  const { target, staging } = await stageBeside(options.target, options.force);
  try {
    const counter = createHashCounter();
    const source = await options.open();
    const tapped = source.pipe(counter.transform);
    let readError: unknown;
    source.once('error', (error) => {
      readError = error;
      tapped.destroy(error); // pipe() does not forward errors
    });
    let entries: number;
    try {
      ({ entries } = await safeExtract(tapped, options.compression, staging));
    } catch (error) {
      // A refused archive stops before its end: release the download, or its socket lingers.
      source.destroy();
      if (readError || !isDecodeError(error)) throw error;
      // A decompressor's checksum or a tar header failing: the bytes are not what was stored.
      throw new IntegrityError(
        `The archive is corrupt (${(error as Error).message}): it does not match its metadata. ${target} was left as it was.`,
      );
    }
    const { sha256, size } = counter.digest();
    if (size !== options.expected.size || sha256 !== options.expected.sha256) {
      throw new IntegrityError(
        `Archive does not match its metadata: expected ${options.expected.size} bytes with SHA-256 ${options.expected.sha256}, ` +
          `read ${size} bytes with SHA-256 ${sha256}. The object is corrupt or was replaced; ${target} was left as it was.`,
      );
    }
    await moveIntoPlace(staging, target);
    return { target, entries, sha256, size };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Swap the staging directory in; the old target is removed only after the swap. */
export async function moveIntoPlace(staging: string, target: string): Promise<void> {
  const old = `${staging}.old`;
  let hadTarget = true;
  try {
    await rename(target, old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    hadTarget = false;
  }
  await rename(staging, target);
  if (hadTarget) await rm(old, { recursive: true, force: true });
}
