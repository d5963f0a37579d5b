// r2-backup list: a tenant's backups, newest first, with whether each archive is stored whole.
import type { BackupMetadata, RetentionInForce } from '../../common/metadata.js';
import { timeOfStamp } from '../../common/naming.js';
import { formatBytes } from '../../core/format.js';
import { archiveSizesOverS3 } from '../../core/r2/catalogue.js';
import { S3_RECORDS_NOTE } from '../../core/restore/backup.js';
import type { WorkerClient } from '../../core/worker-api/client.js';
import type { Command } from '../command.js';
import { wholeNumber } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  connect,
  recordLister,
  tenantAndBucket,
  type Connection,
} from '../connection.js';

/** The records, newest first, and how their archives stand; the retention when the Worker told. */
interface Listing {
  records: BackupMetadata[];
  missing: Set<string>;
  mismatched: Set<string>;
  /** Archives without a record (their run's Worker call failed). */
  orphans: string[];
  retention?: RetentionInForce;
}

async function listFromWorker(worker: WorkerClient, tenant: string, bucket: string): Promise<Listing> {
  const [records, inventory] = await Promise.all([
    worker.listAll(tenant, bucket),
    worker.inventory(tenant, bucket),
  ]);
  return {
    records,
    missing: new Set(inventory.missing_archives),
    mismatched: new Set(inventory.size_mismatches.map((m) => m.backup_file)),
    orphans: inventory.orphan_archives,
    retention: inventory.retention,
  };
}

/** With R2's S3 keys alone: the records read one by one (with a progress line), the archives
 *  from one listing, compared here as the Worker's inventory compares them. */
async function listOverS3(connection: Connection, tenant: string, bucket: string): Promise<Listing> {
  const listRecords = recordLister(connection, tenant, bucket, 'list'); // names what to set, if neither
  console.error(S3_RECORDS_NOTE);
  const [records, sizes] = await Promise.all([
    listRecords(),
    archiveSizesOverS3(connection.s3!, bucket, tenant),
  ]);
  const stored = (r: BackupMetadata): number | undefined => sizes.get(r.backup_file);
  const recorded = new Set(records.map((r) => r.backup_file));
  return {
    records,
    missing: new Set(records.filter((r) => stored(r) === undefined).map((r) => r.backup_file)),
    mismatched: new Set(
      records
        .filter((r) => r.size !== undefined && stored(r) !== undefined && stored(r) !== r.size)
        .map((r) => r.backup_file),
    ),
    // Empty objects are uploads in flight (their claims), not archives.
    orphans: [...sizes].filter(([file, size]) => size > 0 && !recorded.has(file)).map(([file]) => file),
  };
}

function status(record: BackupMetadata, listing: Listing): string {
  if (listing.missing.has(record.backup_file)) return 'missing archive';
  if (listing.mismatched.has(record.backup_file)) return 'size mismatch';
  return record.sha256 && record.size !== undefined ? 'ok' : 'unverifiable';
}

/** When the backup was made: the action's time, else when the Worker stored it, else (records
 *  of the original Worker have neither) the time its name carries. */
function timeOf(record: BackupMetadata): string {
  if (record.created_at ?? record.stored_at) return (record.created_at ?? record.stored_at)!;
  const stamp = /\d{8}-\d{6}/.exec(record.backup_file)?.[0];
  return stamp ? timeOfStamp(stamp).toISOString() : '?';
}

function describeRetention(retention: RetentionInForce | undefined): string {
  if (!retention) return 'Retention: not known (records read over S3; the Worker holds the policy).';
  const { policy, min_retention_days: locked } = retention;
  const rules = policy
    ? `the Worker's policy keeps ${Object.entries(policy)
        .map(([rule, n]) => `${rule.replace('_', '-')} ${n}`)
        .join(', ')}`
    : 'no Worker policy (RETENTION_POLICIES): nothing is pruned unless a maintain credential prunes';
  const lock = locked > 0 ? `; backups stored in the last ${locked} days cannot be deleted` : '';
  return `Retention: ${rules}${lock}.`;
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const list: Command = {
  name: 'list',
  summary: "list a tenant's backups, newest first",
  help: `Usage: r2-backup list --tenant T [--bucket B] [--limit N] [--json]

Lists the backups of a tenant, newest first: time (UTC), branch, short commit, size,
compression, status (ok, missing archive, size mismatch, or unverifiable when the record
has no size or SHA-256), record (verified: signed by the Worker; unsigned: written by the
earlier shell workflow or planted over S3; tampered: changed since it was signed; ", repaired" when
it was recorded after the fact by verify --repair or a later run) and history
(yes when the git bundle is stored beside it, shallow
when it came from a shallow checkout), then the retention in force (the Worker's policy and
its lock). --json prints the records as the Worker stores them (README: "JSON output"), each
with its "status" as in the table. Without the Worker, R2's S3 keys alone read the records
straight from the bucket (a progress line on stderr for many): their signatures cannot be
checked (RECORD "?") and the retention is not known.

  --tenant T     tenant (required; default: the R2_BACKUP_TENANT environment variable)
  --bucket B     bucket (default: {tenant}-github-backup)
  --limit N      at most N backups (default: all)
  --json         JSON instead of the table

${CONNECTION_HELP}`,
  options: { ...TENANT_OPTIONS, ...CONNECTION_OPTIONS, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const limit = wholeNumber(values, 'limit');
    const connection = connect(values as Record<string, string>);
    const listing = connection.worker
      ? await listFromWorker(connection.worker, tenant, bucket)
      : await listOverS3(connection, tenant, bucket);
    const shown = listing.records.slice(0, limit);
    if (values.json) {
      // The records as the Worker stores them, with the table's status column.
      console.log(
        JSON.stringify(
          shown.map((r) => ({ ...r, status: status(r, listing) })),
          null,
          2,
        ),
      );
      return 0;
    }
    if (shown.length === 0) {
      console.log(`No backups of tenant ${tenant} in bucket ${bucket}.`);
      console.log(describeRetention(listing.retention));
      return 0;
    }
    const rows = shown.map((r) => [
      timeOf(r).replace('T', ' ').slice(0, 19),
      String(r.branch ?? '?'),
      String(r.commit ?? '?').slice(0, 12),
      r.size === undefined ? '?' : formatBytes(r.size),
      r.compression ?? '?',
      status(r, listing),
      r.recorded_by === 'repair' ? `${r.verification ?? '?'}, repaired` : (r.verification ?? '?'),
      r.bundle_key ? (r.bundle_shallow ? 'shallow' : 'yes') : '-',
      r.backup_file,
    ]);
    const header = [
      'TIME (UTC)',
      'BRANCH',
      'COMMIT',
      'SIZE',
      'COMPRESSION',
      'STATUS',
      'RECORD',
      'HISTORY',
      'BACKUP',
    ];
    console.log(formatTable([header, ...rows]));
    if (listing.orphans.length > 0) {
      console.log(
        `${listing.orphans.length} archives have no record (their run's Worker call failed): ` +
          `${listing.orphans.join(', ')}; r2-backup verify --repair records them.`,
      );
    }
    console.log(describeRetention(listing.retention));
    return 0;
  },
};
