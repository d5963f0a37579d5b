// Restore one backup, chosen from the tenant's records: the shared core of `r2-backup restore`
// and the restore sub-action. The record gives the expected size and SHA-256; the archive is
// streamed from R2 (or the Worker) and checked while it is extracted.
import type { BackupMetadata } from '../../common/metadata.js';
import { archiveKey } from '../../common/naming.js';
import { checkBackupFile } from '../../common/validate.js';
import { describeSource, objectOpener, type ArchiveSource } from '../r2/object-source.js';
import { selectBackup, type BackupSelector } from './selection.js';
import { refuseNewerUnrecorded } from './unrecorded.js';
import { restoreArchive, type RestoreProgress, type RestoreResult } from './archive.js';
import type { RestoreOptionNames } from './option-names.js';
import { identitiesFor } from './encrypted.js';

/** The tenant's records, newest first: the Worker's list, or the records read over S3. */
export type RecordLister = () => Promise<BackupMetadata[]>;

/** What every restore of a chosen backup takes: the files, or (history.ts) the git history. */
export interface ChosenBackupOptions {
  listRecords: RecordLister;
  source: ArchiveSource;
  tenant: string;
  bucket: string;
  selector: BackupSelector;
  target: string;
  force?: boolean;
  /** Restore a record the Worker does not vouch for (unsigned, tampered, or without a hash). */
  allowUnverified?: boolean;
  /** How the caller spells these options, for the messages that name them. */
  names: RestoreOptionNames;
  /** age identities, for an encrypted backup (one of its recipients'). */
  identities?: string[];
  log?: (line: string) => void;
}

export interface RestoreBackupOptions extends ChosenBackupOptions {
  maxBytes?: number;
  onProgress?: (progress: RestoreProgress) => void;
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
  const where = `tenant ${tenant}, bucket ${bucket}`;
  const records = await listRecords();
  if ('latest' in selector && selector.newestArchive) {
    refuseNewerUnrecorded(records, await selector.newestArchive(), tenant, where);
  }
  return selectBackup(records, selector, where);
}

/** Why the Worker does not vouch for a record (tampered or unsigned), or undefined. Records read
 *  over S3 carry no verification (only the Worker can check signatures). */
export function signatureDistrust(record: BackupMetadata, bucket: string): string | undefined {
  const file = record.backup_file;
  if (record.verification === 'tampered') {
    return `The record of ${file} is tampered: it was changed, or copied from another name or tenant, after the Worker signed it`;
  }
  if (record.verification === 'unsigned') {
    return (
      `The record of ${file} is unsigned: the Worker did not write it (an older workflow wrote it over S3, or someone ` +
      `with S3 keys to ${bucket} planted it)`
    );
  }
  return undefined;
}

/** Why a record is not to be trusted for restoring its archive, or undefined. */
export function distrustOf(record: BackupMetadata, bucket: string): string | undefined {
  const file = record.backup_file;
  const signature = signatureDistrust(record, bucket);
  if (signature) return signature;
  if (!record.sha256 || record.size === undefined)
    return `The record of ${file} has no size or SHA-256: the archive cannot be checked against it`;
  return undefined;
}

/** A record the repair made after the fact, from the archive object's own metadata. */
export const REPAIRED_NOTE = (record: BackupMetadata): string =>
  `The record of ${record.backup_file} was made after the fact (recorded_by: repair, stored ${record.stored_at}) ` +
  "from the archive object's own metadata, because its run's record failed";

export const S3_RECORDS_NOTE =
  'Records read over S3 with R2 keys alone: their signatures cannot be checked, so this trusts everyone who holds keys to the bucket (docs/security.md)';

/** Stops at a record the Worker does not vouch for unless `allowUnverified`; says why it goes on. */
export function trustRecord(
  record: BackupMetadata,
  distrust: string | undefined,
  options: {
    allowUnverified?: boolean;
    names: Pick<RestoreOptionNames, 'allowUnverified'>;
    log?: (line: string) => void;
  },
): void {
  if (distrust && !options.allowUnverified)
    throw new Error(`${distrust}. Not restored; ${options.names.allowUnverified} restores it anyway.`);
  if (distrust) options.log?.(`Warning: ${distrust}; restoring it as ${options.names.allowUnverified} asks.`);
  else if (record.verification === undefined) options.log?.(S3_RECORDS_NOTE);
}

export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoredBackup> {
  const { tenant, bucket } = options;
  const record = await chooseRecord(options.listRecords, tenant, bucket, options.selector);
  trustRecord(record, distrustOf(record, bucket), options);
  if (record.recorded_by === 'repair') options.log?.(REPAIRED_NOTE(record));
  // The key from validated parts, never the record's own text.
  const { compression, encrypted } = checkBackupFile(record.backup_file, tenant);
  const identities = await identitiesFor(record, encrypted, options.identities, identityName(options.names));
  const key = archiveKey(tenant, record.backup_file);
  const size = record.size === undefined ? 'size unknown' : `${record.size} bytes`;
  options.log?.(
    `Restoring ${key} (${size}, ${compression}, commit ${String(record.commit).slice(0, 12)} on ${record.branch}) ` +
      `from ${describeSource(options.source)} into ${options.target}`,
  );
  const result = await restoreArchive({
    open: objectOpener(options.source, bucket, key),
    object: key,
    warn: (message) => options.log?.(`Warning: ${message}`),
    compression,
    // A record without a hash (the seed's): the archive is hashed and the hash printed.
    expected:
      !record.sha256 || record.size === undefined ? undefined : { sha256: record.sha256, size: record.size },
    target: options.target,
    force: options.force,
    maxBytes: options.maxBytes,
    names: options.names,
    onProgress: options.onProgress,
    identities,
  });
  return { ...result, record, key };
}

export const identityName = (names: Pick<RestoreOptionNames, 'identity'>): string =>
  names.identity ?? 'an age identity';
