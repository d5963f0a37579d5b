// `--latest` never passes over a newer archive silently: when the tenant's newest archive has
// no record (its run stored it but its Worker call failed), restoring the newest *record* would
// quietly bring back something older. The restore stops and says how to record it.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { BackupMetadata } from '../../common/metadata.js';
import { positionOf, tenantPrefix } from '../../common/naming.js';
import type { WorkerClient } from '../worker-api/client.js';

/** The backup file of the tenant's newest stored archive (empty claims are uploads in flight, not archives). */
export type NewestArchive = () => Promise<string | undefined>;

/** From the Worker's inventory when the Worker is at hand (it lists records too), else over S3. */
export function newestArchiveOf(
  tenant: string,
  bucket: string,
  from: { worker?: WorkerClient; s3?: S3Client },
): NewestArchive {
  const { worker, s3 } = from;
  if (worker) {
    return async () =>
      newest(
        tenant,
        (await worker.inventory(tenant, bucket)).archives.filter((a) => a.size > 0).map((a) => a.backup_file),
      );
  }
  if (!s3) return async () => undefined;
  return async () => {
    const prefix = tenantPrefix(tenant);
    const files: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      );
      for (const { Key, Size } of page.Contents ?? []) if (Key && Size) files.push(Key.slice(prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return newest(tenant, files);
  };
}

/** The newest of `files` that is a backup of the tenant, by its stamp and run number. */
function newest(tenant: string, files: string[]): string | undefined {
  let best: { file: string; position: string } | undefined;
  for (const file of files) {
    const position = positionOf(tenant, file);
    if (position && (!best || position > best.position)) best = { file, position };
  }
  return best?.file;
}

/** Throws when `newestArchive` is newer than every record: --latest would restore an older backup. */
export function refuseNewerUnrecorded(
  records: BackupMetadata[],
  newestArchive: string | undefined,
  tenant: string,
  where: string,
): void {
  if (newestArchive === undefined) return;
  const newestRecord = records[0];
  const archivePosition = positionOf(tenant, newestArchive)!;
  const recordPosition = newestRecord && positionOf(tenant, newestRecord.backup_file);
  if (recordPosition && recordPosition >= archivePosition) return;
  throw new Error(
    `The newest archive in ${where}, ${newestArchive}, has no record (its run stored it, but its Worker call failed), ` +
      (newestRecord
        ? `so the latest recorded backup, ${newestRecord.backup_file}, is older than what is stored. `
        : 'and no backup has a record. ') +
      `Nothing was restored. Record it from its object metadata with \`r2-backup verify --repair --tenant ${tenant}\` ` +
      "(the Worker and R2's S3 keys), then restore the latest again" +
      (newestRecord ? `; or restore ${newestRecord.backup_file} by its name.` : '.'),
  );
}
