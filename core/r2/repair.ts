// The catalogue repairs itself: archives stored without a record (the run's Worker call failed)
// are recorded after the fact, from the object's own metadata (archive-metadata.ts), through the
// Worker's normal record route, which checks, signs and never overwrites. Used by
// `r2-backup verify --repair` and by the backup action after its own record.
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BackupMetadata, BackupMetadataInput } from '../../common/metadata.js';
import { archiveKey } from '../../common/naming.js';
import { formatDuration } from '../format.js';
import { WorkerApiError, type WorkerClient } from '../worker-api/client.js';
import {
  ArchiveMetadataError,
  ARCHIVE_METADATA,
  REPAIR_AFTER_MS,
  hasArchiveMetadata,
  recordFromArchive,
} from '../../common/archive-metadata.js';
import { hashObject } from './object-hash.js';

export type RepairOutcome = { backupFile: string } & (
  | { status: 'recorded'; record: BackupMetadata; hashed: boolean }
  | { status: 'would-record'; record: BackupMetadataInput; hashed: boolean }
  /** Not an archive to record now: a claim, too recent, not this action's, over the limit. */
  | { status: 'skipped'; reason: string }
  /** Its metadata breaks the record rules: nothing recorded. */
  | { status: 'refused'; reason: string }
  | { status: 'failed'; reason: string }
);

export interface RepairOptions {
  s3: S3Client;
  worker: WorkerClient;
  tenant: string;
  bucket: string;
  /** Record (else only say what would be recorded). */
  apply: boolean;
  /** At most this many archives are looked at (HEAD, maybe hashed, recorded) in one call. */
  limit?: number;
  /** Only the backups this names (default: all). */
  chosen?: (backupFile: string) => boolean;
  now?: number;
}

export async function repairCatalogue(options: RepairOptions): Promise<RepairOutcome[]> {
  const { tenant, bucket } = options;
  const now = options.now ?? Date.now();
  const limit = options.limit ?? Infinity;
  const inventory = await options.worker.inventory(tenant, bucket);
  const orphans = new Set(inventory.orphan_archives.filter(options.chosen ?? (() => true)));
  const outcomes: RepairOutcome[] = [];
  let looked = 0;
  // Newest first, as the inventory lists them.
  for (const archive of inventory.archives.filter((a) => orphans.has(a.backup_file))) {
    const backupFile = archive.backup_file;
    const age = now - Date.parse(archive.uploaded);
    if (archive.size === 0) {
      outcomes.push({
        backupFile,
        status: 'skipped',
        reason: "an empty object: an upload's claim (a run in flight, or one that died)",
      });
    } else if (!(age >= REPAIR_AFTER_MS)) {
      outcomes.push({
        backupFile,
        status: 'skipped',
        reason: `stored ${formatDuration(Math.max(0, age))} ago, less than ${formatDuration(REPAIR_AFTER_MS)}: it may be a running backup's`,
      });
    } else if (looked >= limit) {
      outcomes.push({
        backupFile,
        status: 'skipped',
        reason: `beyond this run's limit of ${limit} archives`,
      });
    } else {
      looked++;
      outcomes.push(await repairOne(options, backupFile));
    }
  }
  return outcomes;
}

async function repairOne(options: RepairOptions, backupFile: string): Promise<RepairOutcome> {
  const { s3, tenant, bucket } = options;
  const key = archiveKey(tenant, backupFile);
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const metadata = head.Metadata ?? {};
    if (!hasArchiveMetadata(metadata)) {
      return {
        backupFile,
        status: 'skipped',
        reason: `its object has no ${ARCHIVE_METADATA.commit} metadata: not uploaded by a version of this action that writes it`,
      };
    }
    const size = head.ContentLength ?? 0;
    let sha256: string | undefined;
    const hashed = metadata[ARCHIVE_METADATA.sha256] === undefined;
    // A multipart upload's metadata has no hash (it is fixed before the bytes are known): the
    // object itself gives it. A dry run does not read it: a stand-in lets the rest be checked.
    if (hashed && !options.apply) sha256 = '0'.repeat(64);
    else if (hashed) {
      const read = await hashObject({ kind: 's3', s3 }, bucket, key);
      if (read.size !== size) throw new Error(`${key} changed while it was read`);
      sha256 = read.sha256;
    }
    const record = recordFromArchive(tenant, bucket, backupFile, { size, metadata }, sha256);
    if (!options.apply) return { backupFile, status: 'would-record', record, hashed };
    const stored = await options.worker.storeMetadata(record);
    return { backupFile, status: 'recorded', record: stored, hashed };
  } catch (error) {
    if (error instanceof ArchiveMetadataError)
      return { backupFile, status: 'refused', reason: error.message };
    if (error instanceof WorkerApiError && error.status === 409) {
      return {
        backupFile,
        status: 'skipped',
        reason: 'recorded meanwhile (by its own run, or another repair)',
      };
    }
    return { backupFile, status: 'failed', reason: (error as Error)?.message ?? String(error) };
  }
}

/** One line per outcome, for a log or the CLI. */
export function describeRepair(outcome: RepairOutcome): string {
  const { backupFile } = outcome;
  const how = (hashed: boolean): string =>
    hashed ? ' (SHA-256 computed by reading the object: its metadata had none)' : '';
  switch (outcome.status) {
    case 'recorded':
      return `${backupFile}: recorded after the fact from its object metadata${how(outcome.hashed)}`;
    case 'would-record':
      return `${backupFile}: would be recorded from its object metadata${outcome.hashed ? ' (its SHA-256 computed by reading the object: its metadata has none)' : ''} (commit ${outcome.record.commit.slice(0, 12)} on ${outcome.record.branch}, ${outcome.record.size} bytes)`;
    case 'skipped':
      return `${backupFile}: not recorded, ${outcome.reason}`;
    case 'refused':
      return `REFUSED ${outcome.reason}`;
    case 'failed':
      return `${backupFile}: the repair failed: ${outcome.reason}`;
  }
}
