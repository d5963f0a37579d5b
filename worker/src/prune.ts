// Retention: which of a tenant's backups a policy keeps (common/retention.ts decides), and
// deleting the others completely: archive, sibling objects of the same name (e.g. a
// `{stamp}.bundle`), notifications, and the metadata record last, so a prune cut short is
// finished by the next one instead of leaving an archive without its record. Notifications of
// no backup (a run that failed before recording one) go once they are older than the oldest
// backup kept: the runs they tell of are older than anything left to restore. Archives without
// a record are never touched, and the newest backup (and the newest that has its archive)
// is always kept. Beyond the policy, a backup is never deleted when:
// - MIN_RETENTION_DAYS locks it: R2 stored its record or archive less than that many days ago
//   (the Worker's clock; a backup's name says only when the caller claims it ran);
// - it is the backup of the run that asks (`run.backup_file`), or was recorded while that run
//   went on (`run.started_ms_ago`): overlapping runs never delete each other's new backups.
// A backup's time for the policy is its stamp, but never later than when its record was
// stored: a record named far in the future cannot pass for the newest and push real backups out.
// Nor, unless the admin token recorded it, earlier than when R2 stored its archive (or its
// record, without one): a `backup` credential that records a backup named yesterday 23:59:59
// would otherwise take yesterday's place in keep-daily and get the real one deleted. Only the
// admin token may import history under old names.
import { applyRetention, type RetentionPolicy } from '../../common/retention.js';
import { archiveKey, metadataKey, notificationKey, timeOfStamp } from '../../common/naming.js';
import { checkBackupFile } from '../../common/validate.js';
import { newestFirst, type Listed } from './listing.js';
import { ADMIN_NAME } from './auth.js';
import { HttpError } from './http.js';
import { legacyStampOf, namesBackup } from './notification-names.js';
import { scanTenant, type TenantObjects } from './tenant-objects.js';

/** The R2 binding deletes at most 1,000 keys per call. */
export const DELETE_BATCH = 1000;
// Parallel reads of old-style notifications (Workers allow six open subrequests).
const READ_CONCURRENCY = 6;
const DAY_MS = 86_400_000;
/** The longest a run may say it has been going (self-hosted jobs may run for days). */
export const MAX_RUN_MS = 7 * DAY_MS;

export interface PruneResult {
  kept: { backup_file: string; reasons: string[] }[];
  deleted: { backup_file: string; keys: string[] }[];
  /** Keys of notifications of no backup, older than the oldest backup kept. */
  notifications: string[];
}

/** The run that asks for the prune (the action after its backup, or the Worker after a record). */
export interface PruningRun {
  /** The backup the run stored: kept whatever the policy says. */
  backupFile: string;
  /** How long ago the run started: every backup recorded since is kept too. */
  startedMsAgo: number;
}

export interface PruneOptions {
  dryRun: boolean;
  /** MIN_RETENTION_DAYS of the tenant. */
  lockDays: number;
  run?: PruningRun;
}

interface Backup {
  listed: Listed;
  time: Date;
  stamp: string;
  /** The archive name without its extension: siblings are `{base}.{anything}`. */
  base: string;
  /** When R2 stored its record (undefined only for a record listed without one). */
  recorded?: Date;
  /** The latest of when R2 stored its record and its archive: what the lock counts from. */
  stored?: Date;
}

function backupsOf(objects: TenantObjects): Backup[] {
  const archives = new Map(objects.archives.map((a) => [a.backupFile, a.object.uploaded]));
  const backups = objects.records.map((listed): Backup => {
    const { stamp, extension } = checkBackupFile(listed.backupFile, listed.tenant);
    const recorded = objects.recordUploaded.get(listed.backupFile);
    const archived = archives.get(listed.backupFile);
    const time = policyTime(timeOfStamp(stamp), listed, recorded, archived);
    const stored = [recorded, archived].filter((d): d is Date => d !== undefined).sort((a, b) => +b - +a)[0];
    return { listed, stamp, time, base: listed.backupFile.slice(0, -extension.length), recorded, stored };
  });
  // Newest first by time, then (stamp, run): runs within one second keep this order and
  // "newest" is the last run, whatever the names sort like.
  return backups.sort((a, b) => +b.time - +a.time || newestFirst(a.listed, b.listed));
}

function policyTime(claimed: Date, listed: Listed, recorded?: Date, archived?: Date): Date {
  let time = recorded && recorded < claimed ? recorded : claimed;
  // A record without a principal was not written through the Worker: only S3 keys, which may
  // delete anyway, can have put it there.
  const principal = listed.record?.principal;
  const uploaded = archived ?? recorded;
  if (principal !== undefined && principal !== ADMIN_NAME && uploaded && uploaded > time) time = uploaded;
  return time;
}

/** Why a backup must stay whatever the policy says, or [] when it may go. */
function protections(backup: Backup, options: PruneOptions, now: number): string[] {
  const reasons: string[] = [];
  const { run } = options;
  if (run && backup.listed.backupFile === run.backupFile) reasons.push('this run');
  else if (run && backup.recorded && +backup.recorded >= now - run.startedMsAgo)
    reasons.push('recorded during this run');
  if (lockedUntil(backup, options.lockDays) > now) reasons.push(lockReason(options.lockDays));
  return reasons;
}

const lockedUntil = (backup: Backup, lockDays: number): number =>
  lockDays === 0 ? 0 : +(backup.stored ?? new Date()) + lockDays * DAY_MS;

const lockReason = (days: number): string =>
  `locked: stored less than ${days} day${days === 1 ? '' : 's'} ago (MIN_RETENTION_DAYS)`;

function decide(
  objects: TenantObjects,
  policy: RetentionPolicy,
  options: PruneOptions,
): { keep: PruneResult['kept']; remove: Backup[]; oldestKept?: Date } {
  const now = Date.now();
  const backups = backupsOf(objects);
  const decision = applyRetention(backups, policy);
  const archives = new Set(objects.archives.map((a) => a.backupFile));
  const newestStored = backups.find((b) => archives.has(b.listed.backupFile));
  const keep = decision.keep.map(({ item, reasons }) => ({ item, reasons }));
  const remove: Backup[] = [];
  for (const backup of decision.remove) {
    // The newest record may be a run whose upload failed: keep the newest real backup too.
    const reasons = backup === newestStored ? ['newest with archive'] : protections(backup, options, now);
    if (reasons.length > 0) keep.push({ item: backup, reasons });
    else remove.push(backup);
  }
  // applyRetention always keeps the newest; this guard makes a bug there fail loudly here.
  if (backups.length > 0 && remove.includes(backups[0]!)) {
    throw new HttpError(500, 'Retention would delete the newest backup; nothing was deleted');
  }
  const order = new Map(backups.map((b, i) => [b, i]));
  keep.sort((a, b) => order.get(a.item)! - order.get(b.item)!);
  return {
    keep: keep.map(({ item, reasons }) => ({ backup_file: item.listed.backupFile, reasons })),
    remove,
    oldestKept: keep.at(-1)?.item.time,
  };
}

/** Old-style `{stamp}-{random}` notifications belong to the backup their body names. */
async function legacyOwners(
  binding: R2Bucket,
  tenant: string,
  names: string[],
  removeByStamp: Map<string, Backup[]>,
): Promise<Map<string, string>> {
  const candidates = names.filter((name) => removeByStamp.has(legacyStampOf(name) ?? ''));
  const owners = new Map<string, string>();
  for (let i = 0; i < candidates.length; i += READ_CONCURRENCY) {
    await Promise.all(
      candidates.slice(i, i + READ_CONCURRENCY).map(async (name) => {
        const object = await binding.get(notificationKey(tenant, name));
        const body = object
          ? ((await object.json().catch(() => null)) as { backup_file?: unknown } | null)
          : null;
        if (typeof body?.backup_file === 'string') owners.set(name, body.backup_file);
      }),
    );
  }
  return owners;
}

async function deleteInBatches(binding: R2Bucket, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) await binding.delete(keys.slice(i, i + DELETE_BATCH));
}

/** Every key of each backup: archive, siblings, notifications, and its record last. */
async function keysOfBackups(
  binding: R2Bucket,
  tenant: string,
  objects: TenantObjects,
  remove: Backup[],
): Promise<PruneResult['deleted']> {
  const removeByStamp = new Map<string, Backup[]>();
  for (const backup of remove)
    removeByStamp.set(backup.stamp, [...(removeByStamp.get(backup.stamp) ?? []), backup]);
  const owners = await legacyOwners(binding, tenant, objects.notifications, removeByStamp);
  const archives = new Set(objects.archives.map((a) => a.backupFile));
  return remove.map(({ listed: { backupFile }, base }) => {
    const notifications = objects.notifications.filter(
      (name) => namesBackup(name, backupFile) || owners.get(name) === backupFile,
    );
    const keys = [
      ...(archives.has(backupFile) ? [archiveKey(tenant, backupFile)] : []),
      ...objects.others.map((o) => o.key).filter((key) => key.startsWith(archiveKey(tenant, `${base}.`))),
      ...notifications.map((name) => notificationKey(tenant, name)),
      metadataKey(tenant, backupFile),
    ];
    return { backup_file: backupFile, keys };
  });
}

/** Deletes everything of the backups, their records last (a cut-short delete is finished later). */
async function deleteBackups(binding: R2Bucket, deleted: PruneResult['deleted']): Promise<void> {
  const records = new Set(deleted.map((d) => d.keys[d.keys.length - 1]!));
  const all = deleted.flatMap((d) => d.keys);
  await deleteInBatches(
    binding,
    all.filter((key) => !records.has(key)),
  );
  await deleteInBatches(binding, [...records]);
}

/** Notifications named by stamp alone (no backup in the name) from before `oldestKept`, and not
 *  already going with a backup. Their stamp is when the Worker stored them (or, stored before
 *  the current naming, their backup's stamp), so one from a kept backup is never older than it. */
function staleNotifications(
  tenant: string,
  names: string[],
  oldestKept: Date | undefined,
  deleted: PruneResult['deleted'],
): string[] {
  if (!oldestKept) return [];
  const going = new Set(deleted.flatMap((d) => d.keys));
  return names
    .filter((name) => {
      const stamp = legacyStampOf(name);
      return stamp !== null && timeOfStamp(stamp) < oldestKept;
    })
    .map((name) => notificationKey(tenant, name))
    .filter((key) => !going.has(key));
}

export async function pruneTenant(
  binding: R2Bucket,
  _bucket: string,
  tenant: string,
  policy: RetentionPolicy,
  options: PruneOptions,
): Promise<PruneResult> {
  const objects = await scanTenant(binding, _bucket, tenant);
  const { keep, remove, oldestKept } = decide(objects, policy, options);
  const deleted = await keysOfBackups(binding, tenant, objects, remove);
  const notifications = staleNotifications(tenant, objects.notifications, oldestKept, deleted);
  if (!options.dryRun) {
    await deleteBackups(binding, deleted);
    await deleteInBatches(binding, notifications);
  }
  return { kept: keep, deleted, notifications };
}

/**
 * Deletes one backup (DELETE /api/github/backup/:tenant/:backup_file): 404 when it has no
 * record, 409 for the tenant's newest backup (or newest with its archive), 403 while
 * MIN_RETENTION_DAYS locks it.
 */
export async function deleteBackup(
  binding: R2Bucket,
  bucket: string,
  tenant: string,
  backupFile: string,
  lockDays: number,
): Promise<PruneResult['deleted'][number]> {
  const objects = await scanTenant(binding, bucket, tenant);
  const backups = backupsOf(objects);
  const backup = backups.find((b) => b.listed.backupFile === backupFile);
  if (!backup) throw new HttpError(404, `No backup ${backupFile} of tenant ${tenant} in ${bucket}`);
  const archives = new Set(objects.archives.map((a) => a.backupFile));
  const newestStored = backups.find((b) => archives.has(b.listed.backupFile));
  if (backup === backups[0] || backup === newestStored) {
    throw new HttpError(
      409,
      `${backupFile} is the newest backup of tenant ${tenant}${backup === backups[0] ? '' : ' that has its archive'}; the newest is never deleted`,
    );
  }
  const until = lockedUntil(backup, lockDays);
  if (until > Date.now()) {
    throw new HttpError(403, 'Forbidden', {
      reason:
        `MIN_RETENTION_DAYS keeps backups of tenant ${tenant} for ${lockDays} days after they are stored; ` +
        `${backupFile} may be deleted from ${new Date(until).toISOString()}, by no credential before`,
    });
  }
  const [deleted] = await keysOfBackups(binding, tenant, objects, [backup]);
  await deleteBackups(binding, [deleted!]);
  return deleted!;
}
