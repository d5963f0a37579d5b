// r2-backup list: a tenant's backups, newest first, with whether each archive is stored whole.
import type { BackupMetadata, InventoryResponse, RetentionInForce } from '../../common/metadata.js';
import { timeOfStamp } from '../../common/naming.js';
import { formatBytes } from '../../core/format.js';
import type { Command } from '../command.js';
import { wholeNumber } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  connect,
  requireWorker,
  tenantAndBucket,
} from '../connection.js';

function status(record: BackupMetadata, inventory: InventoryResponse): string {
  if (inventory.missing_archives.includes(record.backup_file)) return 'missing archive';
  if (inventory.size_mismatches.some((m) => m.backup_file === record.backup_file)) return 'size mismatch';
  return record.sha256 && record.size !== undefined ? 'ok' : 'unverifiable';
}

/** When the backup was made: the action's time, else when the Worker stored it, else (records
 *  of the seed's Worker have neither) the time its name carries. */
function timeOf(record: BackupMetadata): string {
  if (record.created_at ?? record.stored_at) return (record.created_at ?? record.stored_at)!;
  const stamp = /\d{8}-\d{6}/.exec(record.backup_file)?.[0];
  return stamp ? timeOfStamp(stamp).toISOString() : '?';
}

function describeRetention({ policy, min_retention_days: locked }: RetentionInForce): string {
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
seed's workflow or planted over S3; tampered: changed since it was signed; ", repaired" when
it was recorded after the fact by verify --repair or a later run) and history
(yes when the git bundle is stored beside it, shallow
when it came from a shallow checkout), then the retention in force (the Worker's policy and
its lock). --json prints the records as the Worker stores them (README: "JSON output"), each
with its "status" as in the table.

  --tenant T     tenant (required; default: the R2_BACKUP_TENANT environment variable)
  --bucket B     bucket (default: {tenant}-github-backup)
  --limit N      at most N backups (default: all)
  --json         JSON instead of the table

${CONNECTION_HELP}`,
  options: { ...TENANT_OPTIONS, ...CONNECTION_OPTIONS, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const limit = wholeNumber(values, 'limit');
    const worker = requireWorker(connect(values as Record<string, string>), 'list');
    const [records, inventory] = await Promise.all([
      worker.listAll(tenant, bucket),
      worker.inventory(tenant, bucket),
    ]);
    const shown = records.slice(0, limit);
    if (values.json) {
      // The records as the Worker stores them, with the table's status column.
      console.log(
        JSON.stringify(
          shown.map((r) => ({ ...r, status: status(r, inventory) })),
          null,
          2,
        ),
      );
      return 0;
    }
    if (shown.length === 0) {
      console.log(`No backups of tenant ${tenant} in bucket ${bucket}.`);
      console.log(describeRetention(inventory.retention));
      return 0;
    }
    const rows = shown.map((r) => [
      timeOf(r).replace('T', ' ').slice(0, 19),
      String(r.branch ?? '?'),
      String(r.commit ?? '?').slice(0, 12),
      r.size === undefined ? '?' : formatBytes(r.size),
      r.compression ?? '?',
      status(r, inventory),
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
    if (inventory.orphan_archives.length > 0) {
      console.log(
        `${inventory.orphan_archives.length} archives have no record (their run's Worker call failed): ` +
          `${inventory.orphan_archives.join(', ')}; r2-backup verify --repair records them.`,
      );
    }
    console.log(describeRetention(inventory.retention));
    return 0;
  },
};
