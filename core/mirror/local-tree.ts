// The working tree as the mirror sees it: regular files only, minus the excludes, each with
// its size and SHA-256. Symbolic links are not followed and not stored (a link can point
// outside the checkout); they, sockets and other special files are reported as skipped.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ExcludeMatcher } from '../tree/excludes.js';
import { forEachLimited } from '../pool.js';

export interface LocalFile {
  /** Relative to the root, '/'-separated: the part of the key after the mirror prefix. */
  path: string;
  absolute: string;
  size: number;
  sha256: string;
}

export interface LocalTree {
  files: LocalFile[];
  /** Relative paths of symbolic links and special files, which are not mirrored. */
  skipped: string[];
}

/** Files at or above this size are hashed as a stream rather than read whole. */
const STREAM_HASH_FROM = 8 * 1024 * 1024;
const HASH_CONCURRENCY = 32;

/** SHA-256 and size of what was read (the file may have changed since it was stat'ed). */
export async function hashFile(
  absolute: string,
  sizeHint: number,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  if (sizeHint < STREAM_HASH_FROM) {
    const data = await readFile(absolute);
    hash.update(data);
    size = data.length;
  } else {
    const counted = createReadStream(absolute).on('data', (chunk) => (size += chunk.length));
    await pipeline(counted, hash);
  }
  return { sha256: hash.digest('hex'), size };
}

export async function scanLocalTree(root: string, isExcluded: ExcludeMatcher): Promise<LocalTree> {
  const found: { path: string; absolute: string }[] = [];
  const skipped: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(relative ? join(root, relative) : root, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        const path = relative ? `${relative}/${entry.name}` : entry.name;
        if (isExcluded(path)) return;
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) found.push({ path, absolute: join(root, path) });
        else skipped.push(path);
      }),
    );
  };
  await walk('');
  const files: LocalFile[] = new Array(found.length);
  await forEachLimited(found, HASH_CONCURRENCY, async ({ path, absolute }, index) => {
    files[index] = { path, absolute, ...(await hashFile(absolute, (await stat(absolute)).size)) };
  });
  files.sort((a, b) => compareKeys(a.path, b.path));
  return { files, skipped: skipped.sort(compareKeys) };
}

/** The order in which S3 and R2 list keys: by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
