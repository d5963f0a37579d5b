// A tenant's records without the Worker: one listing of `backups/{tenant}/metadata/` over S3,
// then each record read, newest first in the Worker's order. For restores with R2 keys alone.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { BackupMetadata } from '../../common/metadata.js';
import { metadataKey, positionOf, tenantPrefix } from '../../common/naming.js';
import { forEachLimited } from '../pool.js';

const READS_IN_FLIGHT = 8;

/** The sizes of a tenant's archives without the Worker: one listing of `backups/{tenant}/`
 *  (records and notifications sit in folders below it, left out by the delimiter). */
export async function archiveSizesOverS3(
  s3: S3Client,
  bucket: string,
  tenant: string,
): Promise<Map<string, number>> {
  const prefix = tenantPrefix(tenant);
  const sizes = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
    );
    for (const { Key, Size } of page.Contents ?? []) {
      const file = Key?.slice(prefix.length) ?? '';
      if (positionOf(tenant, file)) sizes.set(file, Size ?? 0);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return sizes;
}

export async function listRecordsOverS3(
  s3: S3Client,
  bucket: string,
  tenant: string,
  /** Called after each record read, for a progress line over many backups. */
  onProgress?: (read: number, total: number) => void,
): Promise<BackupMetadata[]> {
  const prefix = `${tenantPrefix(tenant)}metadata/`;
  const found: { position: string; backupFile: string }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const { Key } of page.Contents ?? []) {
      const name = Key?.slice(prefix.length) ?? '';
      const backupFile = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
      const position = positionOf(tenant, backupFile);
      if (position) found.push({ position, backupFile });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  found.sort((a, b) => (a.position < b.position ? 1 : a.position > b.position ? -1 : 0));
  const records: BackupMetadata[] = [];
  let read = 0;
  onProgress?.(read, found.length);
  await forEachLimited(found, READS_IN_FLIGHT, async ({ backupFile }, index) => {
    const answer = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: metadataKey(tenant, backupFile) }),
    );
    records[index] = JSON.parse(await answer.Body!.transformToString()) as BackupMetadata;
    onProgress?.(++read, found.length);
  });
  return records;
}
