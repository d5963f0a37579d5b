// The stored sizes of the objects under a prefix over S3, from one listing (1,000 keys a
// request) instead of a HEAD per object: how a backup checks the LFS objects earlier backups
// stored (core/git/lfs.ts). The Worker's routes have no such request.
import type { S3Client } from '@aws-sdk/client-s3';
import { listAll } from '../mirror/remote-listing.js';

/** A lookup of each key's stored size under `prefix` (undefined: not stored), as listed now. */
export async function storedSizesOverS3(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<(key: string) => Promise<number | undefined>> {
  const listed = await listAll(client, bucket, prefix);
  return (key) =>
    Promise.resolve(key.startsWith(prefix) ? listed.get(key.slice(prefix.length))?.size : undefined);
}
