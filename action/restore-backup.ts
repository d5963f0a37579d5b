// Restore one backup, chosen from the tenant's records: the shared core of `r2-backup restore`
// and the restore sub-action. The record gives the expected size and SHA-256; the archive is
// streamed from R2 (or the Worker) and checked while it is extracted.
import type { BackupMetadata } from '../common/metadata.js';
import { archiveKey } from '../common/naming.js';
import { checkBackupFile } from '../common/validate.js';
import { describeSource, openObject, type ArchiveSource } from './archive-source.js';
import { selectBackup, type BackupSelector } from './backup-selection.js';
import { restoreArchive, type RestoreResult } from './restore.js';

/** The tenant's records, newest first: the Worker's list, or the records read over S3. */
export type RecordLister = () => Promise<BackupMetadata[]>;

export interface RestoreBackupOptions {
  listRecords: RecordLister;
  source: ArchiveSource;
  tenant: string;
  bucket: string;
  selector: BackupSelector;
  target: string;
  force?: boolean;
  maxBytes?: number;
  log?: (line: string) => void;
}

export interface RestoredBackup extends RestoreResult {
  record: BackupMetadata;
  key: string;
}

/** The record a selector names, from the tenant's records as the Worker lists them. */
export async function chooseRecord(
  listRecords: RecordLister,
  tenant: string,
  bucket: string,
  selector: BackupSelector,
): Promise<BackupMetadata> {
  return selectBackup(await listRecords(), selector, `tenant ${tenant}, bucket ${bucket}`);
}

export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoredBackup> {
  const { tenant, bucket } = options;
  const record = await chooseRecord(options.listRecords, tenant, bucket, options.selector);
  if (!record.sha256 || record.size === undefined) {
    throw new Error(
      `The record of ${record.backup_file} has no size or SHA-256: it cannot be verified, so it is not restored`,
    );
  }
  // The key from validated parts, never the record's own text.
  const { compression } = checkBackupFile(record.backup_file, tenant);
  const key = archiveKey(tenant, record.backup_file);
  options.log?.(
    `Restoring ${key} (${record.size} bytes, ${compression}, commit ${record.commit.slice(0, 12)} on ${record.branch}) ` +
      `from ${describeSource(options.source)} into ${options.target}`,
  );
  const result = await restoreArchive({
    open: () => openObject(options.source, bucket, key),
    compression,
    expected: { sha256: record.sha256, size: record.size },
    target: options.target,
    force: options.force,
    maxBytes: options.maxBytes,
  });
  return { ...result, record, key };
}
