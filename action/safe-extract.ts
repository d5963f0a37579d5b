// Extracts a backup archive stream into a directory, refusing any entry that would land
// outside it. Restore extracts into a fresh temporary directory, so a refused archive leaves
// nothing behind in the real target.
import { isAbsolute, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { Unpack, type ReadEntry } from 'tar';
import type { Compression } from '../common/validate.js';

export class UnsafeArchiveError extends Error {
  constructor(entryPath: string, reason: string) {
    super(`Refused archive entry "${entryPath}": ${reason}. Nothing was restored.`);
    this.name = 'UnsafeArchiveError';
  }
}

export function decompressor(compression: Compression): Transform {
  if (compression === 'gzip') return createGunzip();
  if (compression === 'zstd') return createZstdDecompress();
  return new PassThrough();
}

const escapes = (path: string): boolean => {
  const normal = posix.normalize(path);
  return normal === '..' || normal.startsWith('../');
};

/** Why an entry is unsafe to extract, or undefined when it stays inside the target. */
export function unsafeReason(entry: Pick<ReadEntry, 'path' | 'type' | 'linkpath'>): string | undefined {
  const path = entry.path;
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) return 'absolute path';
  if (path.split('/').includes('..')) return 'path contains ".."';
  const link = entry.linkpath;
  if (entry.type === 'Link' && link !== undefined) {
    if (isAbsolute(link) || escapes(link)) return `hard link to "${link}" outside the target`;
  }
  if (entry.type === 'SymbolicLink' && link !== undefined) {
    if (isAbsolute(link)) return `symbolic link to absolute path "${link}"`;
    if (escapes(posix.join(posix.dirname(path), link)))
      return `symbolic link to "${link}" outside the target`;
  }
  return undefined;
}

export interface ExtractResult {
  entries: number;
}

/** Extract `source` (compressed as `compression`) into the existing directory `directory`. */
export async function safeExtract(
  source: Readable,
  compression: Compression,
  directory: string,
): Promise<ExtractResult> {
  let entries = 0;
  let refusal: UnsafeArchiveError | undefined;
  const unpack = new Unpack({
    cwd: directory,
    strict: true, // a warning (bad header, failed write) is an error, not a skipped file
    chmod: true, // modes exactly as archived...
    processUmask: 0, // ...without the process umask
    preserveOwner: false,
    filter: (path, entry) => {
      const reason = unsafeReason(entry as ReadEntry);
      if (reason) {
        refusal ??= new UnsafeArchiveError(path, reason);
        unpack.abort(refusal);
        return false;
      }
      entries++;
      return true;
    },
  });
  const done = new Promise<void>((resolve, reject) => {
    unpack.on('close', resolve);
    unpack.on('error', reject);
  });
  await Promise.all([
    pipeline(source, decompressor(compression), unpack as unknown as NodeJS.WritableStream),
    done,
  ]).catch((error: unknown) => {
    throw refusal ?? error;
  });
  if (refusal) throw refusal;
  return { entries };
}
