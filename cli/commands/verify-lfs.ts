// verify --deep and LFS objects (include-lfs): each backup's list of LFS objects is read (checked
// against its record's SHA-256 first), and every object it lists is hashed like an archive, its
// SHA-256 being its oid. Objects shared by several backups are hashed once.
import { createHash } from 'node:crypto';
import { lfsObjectKey } from '../../common/naming.js';
import { openObject, type ArchiveSource } from '../../core/r2/object-source.js';
import { parseLfsList } from '../../core/restore/lfs.js';
import type { DeepCheck } from './verify-deep.js';

/** A list of LFS objects as a record names it. */
export interface RecordedLfsList {
  key: string;
  size?: number;
  sha256?: string;
}

/** The list's bytes, refused past its recorded size (a list is at most a few MiB). */
async function readList(source: ArchiveSource, bucket: string, list: RecordedLfsList): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of (await openObject(source, bucket, list.key)).body) {
    size += (chunk as Buffer).length;
    if (size > (list.size ?? 0)) throw new Error(`more than its recorded ${list.size} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The objects every list names, to hash; and the problems of the lists themselves. */
export async function lfsObjectChecks(
  source: ArchiveSource,
  bucket: string,
  tenant: string,
  lists: RecordedLfsList[],
): Promise<{ checks: DeepCheck[]; problems: string[] }> {
  const checks = new Map<string, DeepCheck>();
  const problems: string[] = [];
  for (const list of lists) {
    let objects;
    try {
      const bytes = await readList(source, bucket, list);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (sha256 !== list.sha256) throw new Error(`SHA-256 ${sha256} read, ${list.sha256} recorded`);
      objects = parseLfsList(bytes);
    } catch (error) {
      problems.push(`${list.key}: ${(error as Error).message}`);
      continue;
    }
    for (const { oid, size } of objects) {
      const key = lfsObjectKey(tenant, oid);
      checks.set(key, { key, name: key, sha256: oid, size });
    }
  }
  return { checks: [...checks.values()], problems };
}
