// One tenant at a glance, for the dashboard, scripts and the cron's alarms: its newest backup,
// how much it stores and what that costs, its last run's status, and a state: `ok`, `stale`
// (no backup stored for STALE_AFTER_HOURS) or `failing` (its last FAILING_AFTER notifications
// are failures). One listing of the tenant's folder carries everything but the newest
// notifications' statuses, which are in their bodies: at most FAILING_AFTER small reads.
import type { BackupMetadata, BackupNotification } from '../../common/metadata.js';
import { isBundleFile } from '../../common/validate.js';
import type { Env } from './env.js';
import { staleAfterHours } from './hours-per-tenant.js';
import { misconfigured } from './config-json.js';
import { newestFirst, recordsOf } from './listing.js';
import { notificationKey } from '../../common/naming.js';
import { scanTenant } from './tenant-objects.js';

export type TenantState = 'ok' | 'stale' | 'failing';

export interface TenantSummary {
  tenant: string;
  bucket: string;
  state: TenantState;
  stale_after_hours: number;
  newest: {
    backup_file: string;
    stored_at: string;
    age_hours: number;
    branch: string;
    commit: string;
    size: number | null;
    bundle: boolean;
    verification: string;
  } | null;
  backups: number;
  bytes_stored: number;
  monthly_storage_cost_usd: number;
  last_status: { status: string; stored_at: string; backup_file: string | null } | null;
  recent_failures: number;
  notifications: number;
  /** The newest restore drill (`r2-backup drill`), or null. */
  last_drill: {
    status: string;
    stored_at: string;
    backup_file: string | null;
    message: string | null;
  } | null;
}

export const DEFAULT_FAILING_AFTER = 3;
/** R2 Standard storage, USD per GB-month (GB = 10^9 bytes), as Cloudflare publishes it. */
export const DEFAULT_STORAGE_PRICE = 0.015;

function positiveNumber(
  variable: string,
  raw: string | undefined,
  fallback: number,
  integer: boolean,
): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (integer && (!Number.isInteger(n) || n < 1))) {
    throw misconfigured(
      variable,
      integer ? 'must be a whole number of at least 1' : 'must be a number of at least 0',
    );
  }
  return n;
}

export const failingAfter = (env: Env): number =>
  positiveNumber('FAILING_AFTER', env.FAILING_AFTER, DEFAULT_FAILING_AFTER, true);

const storagePrice = (env: Env): number =>
  positiveNumber(
    'R2_STORAGE_PRICE_PER_GB_MONTH',
    env.R2_STORAGE_PRICE_PER_GB_MONTH,
    DEFAULT_STORAGE_PRICE,
    false,
  );

export async function readNotification(
  binding: R2Bucket,
  tenant: string,
  name: string,
): Promise<BackupNotification | null> {
  const object = await binding.get(notificationKey(tenant, name));
  if (!object) return null; // pruned between the listing and this read
  try {
    return (await object.json()) as BackupNotification;
  } catch {
    return null;
  }
}

export async function summarizeTenant(
  env: Env,
  binding: R2Bucket,
  bucket: string,
  tenant: string,
  now = new Date(),
): Promise<TenantSummary> {
  const objects = await scanTenant(binding, bucket, tenant);
  const staleHours = staleAfterHours(env.STALE_AFTER_HOURS)(tenant);
  const failing = failingAfter(env);

  const newestListed = objects.records.sort(newestFirst)[0];
  const [record] = newestListed ? await recordsOf(env, binding, bucket, [newestListed]) : [];
  const storedAt = newestListed ? objects.recordUploaded.get(newestListed.backupFile) : undefined;
  const bundleKeys = new Set(objects.others.filter((o) => isBundleFile(o.key)).map((o) => o.key));
  const newest =
    newestListed && storedAt
      ? describeNewest(newestListed.backupFile, record ?? null, storedAt, bundleKeys, now)
      : null;

  const byTime = [...objects.notificationUploaded.entries()].sort((a, b) => b[1].getTime() - a[1].getTime());
  // Runs' notifications tell the status; drills are reported apart.
  const isDrill = (name: string): boolean => objects.notificationKinds.get(name) === 'drill';
  const runs = byTime.filter(([name]) => !isDrill(name));
  const drillName = byTime.find(([name]) => isDrill(name))?.[0];
  const [recent, drill] = await Promise.all([
    Promise.all(runs.slice(0, failing).map(([name]) => readNotification(binding, tenant, name))).then((all) =>
      all.filter((n): n is BackupNotification => n !== null),
    ),
    drillName ? readNotification(binding, tenant, drillName) : Promise.resolve(null),
  ]);
  let recentFailures = 0;
  while (recentFailures < recent.length && recent[recentFailures]!.status === 'failure') recentFailures++;

  const bytes = [...objects.archives.map((a) => a.object), ...objects.others].reduce(
    (sum, o) => sum + o.size,
    0,
  );
  const state: TenantState =
    recent.length >= failing && recentFailures >= failing
      ? 'failing'
      : newest === null || newest.age_hours > staleHours
        ? 'stale'
        : 'ok';
  const last = recent[0];
  return {
    tenant,
    bucket,
    state,
    stale_after_hours: staleHours,
    newest,
    backups: objects.records.length,
    bytes_stored: bytes,
    monthly_storage_cost_usd: Math.round((bytes / 1e9) * storagePrice(env) * 1e6) / 1e6,
    last_status: last
      ? { status: last.status, stored_at: last.stored_at, backup_file: last.backup_file ?? null }
      : null,
    recent_failures: recentFailures,
    notifications: objects.notifications.length,
    last_drill: drill
      ? {
          status: drill.status,
          stored_at: drill.stored_at,
          backup_file: drill.backup_file ?? null,
          message: drill.message ?? null,
        }
      : null,
  };
}

function describeNewest(
  backupFile: string,
  record: BackupMetadata | null,
  storedAt: Date,
  bundleKeys: Set<string>,
  now: Date,
): NonNullable<TenantSummary['newest']> {
  return {
    backup_file: backupFile,
    stored_at: storedAt.toISOString(),
    age_hours: Math.round(((now.getTime() - storedAt.getTime()) / 3_600_000) * 1000) / 1000,
    branch: record?.branch ?? '',
    commit: record?.commit ?? '',
    size: record?.size ?? null,
    bundle: record?.bundle_key !== undefined && bundleKeys.has(record.bundle_key),
    verification: record?.verification ?? 'tampered',
  };
}
