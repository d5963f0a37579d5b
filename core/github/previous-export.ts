// Where an incremental export starts: the newest export of the tenant that the Worker vouches
// for, downloaded and checked against its record's size and SHA-256 before a byte of it is
// extracted (the same restore path as an archive's). Its manifest holds the cursors, so the
// state of the incremental export is an immutable, signed object, not a mutable one that a
// repository's credentials could rewrite.
import { join } from 'node:path';
import type { BackupMetadata } from '../../common/metadata.js';
import { archiveKey, metaFileName } from '../../common/naming.js';
import { checkBackupFile } from '../../common/validate.js';
import { objectOpener, type ArchiveSource } from '../r2/object-source.js';
import { restoreArchive } from '../restore/archive.js';
import type { RestoreOptionNames } from '../restore/option-names.js';

export interface PreviousExport {
  /** The extracted export. */
  dir: string;
  /** The backup it belongs to. */
  backupFile: string;
}

/** The newest record with an export this run can read and trust: of the same repository (a
 *  tenant may hold several), signed by the Worker, and not encrypted (the runner holds
 *  recipients' public keys only, so it cannot read what it encrypted). */
export function previousExportRecord(
  records: BackupMetadata[],
  tenant: string,
  repository: string,
): BackupMetadata | undefined {
  return records.find((record) => {
    if (record.verification !== 'verified') return false;
    if (String(record.repo).toLowerCase() !== repository.toLowerCase()) return false;
    if (!record.meta_key || record.meta_size === undefined || !record.meta_sha256) return false;
    try {
      return !checkBackupFile(record.backup_file, tenant).encrypted;
    } catch {
      return false;
    }
  });
}

/** Restores the export of `record` into `dir/previous`; the caller removes `dir`. */
export async function loadPreviousExport(options: {
  record: BackupMetadata;
  tenant: string;
  bucket: string;
  source: ArchiveSource;
  dir: string;
  names: RestoreOptionNames;
}): Promise<PreviousExport> {
  const { record, tenant, bucket } = options;
  // The key from the validated file name, never the record's own text.
  const key = archiveKey(tenant, metaFileName(record.backup_file));
  const restored = await restoreArchive({
    open: objectOpener(options.source, bucket, key),
    compression: 'zstd',
    expected: { sha256: record.meta_sha256!, size: record.meta_size! },
    target: join(options.dir, 'previous'),
    names: options.names,
  });
  return { dir: restored.target, backupFile: record.backup_file };
}
