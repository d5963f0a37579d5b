// Retention: which of a tenant's backups a policy keeps (common/retention.ts decides), and
// deleting the others completely: archive, sibling objects of the same name (e.g. a future
// `{stamp}.bundle`), notifications, and the metadata record last, so a prune cut short is
// finished by the next one instead of leaving an archive without its record. Archives without
// a record are never touched, and the newest backup (and the newest that has its archive)
// is always kept.
import { applyRetention, type RetentionPolicy } from '../../common/retention.js';
import { archiveKey, metadataKey, notificationKey, timeOfStamp } from '../../common/naming.js';
import { checkBackupFile } from '../../common/validate.js';
import { newestFirst, type Listed } from './listing.js';
import { HttpError } from './http.js';
import { legacyStampOf, namesBackup } from './notification-names.js';
import { scanTenant, type TenantObjects } from './tenant-objects.js';

/** The R2 binding deletes at most 1,000 keys per call. */
export const DELETE_BATCH = 1000;
// Parallel reads of old-style notifications (Workers allow six open subrequests).
const READ_CONCURRENCY = 6;

export interface PruneResult {
  kept: { backup_file: string; reasons: string[] }[];
  deleted: { backup_file: string; keys: string[] }[];
}

interface Backup {
  listed: Listed;
  time: Date;
  stamp: string;
  /** The archive name without its extension: siblings are `{base}.{anything}`. */
  base: string;
}

function backupOf(listed: Listed): Backup {
  const { stamp, extension } = checkBackupFile(listed.backupFile, listed.tenant);
  return { listed, stamp, time: timeOfStamp(stamp), base: listed.backupFile.slice(0, -extension.length) };
}

function decide(
  objects: TenantObjects,
  policy: RetentionPolicy,
): { keep: PruneResult['kept']; remove: Backup[] } {
  // Newest first by (stamp, run): applyRetention's sort is stable, so runs within one second
  // keep this order and "newest" is the last run, whatever the names sort like.
  const backups = [...objects.records].sort(newestFirst).map(backupOf);
  const decision = applyRetention(backups, policy);
  const archives = new Set(objects.archives.map((a) => a.backupFile));
  const newestStored = backups.find((b) => archives.has(b.listed.backupFile));
  const keep = decision.keep.map(({ item, reasons }) => ({ item, reasons }));
  let remove = decision.remove;
  if (newestStored && remove.includes(newestStored)) {
    // The newest record may be a run whose upload failed: keep the newest real backup too.
    remove = remove.filter((b) => b !== newestStored);
    keep.push({ item: newestStored, reasons: ['newest with archive'] });
  }
  // applyRetention always keeps the newest; this guard makes a bug there fail loudly here.
  if (backups.length > 0 && remove.includes(backups[0]!)) {
    throw new HttpError(500, 'Retention would delete the newest backup; nothing was deleted');
  }
  keep.sort((a, b) => newestFirst(a.item.listed, b.item.listed));
  return {
    keep: keep.map(({ item, reasons }) => ({ backup_file: item.listed.backupFile, reasons })),
    remove,
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

export async function pruneTenant(
  binding: R2Bucket,
  bucket: string,
  tenant: string,
  policy: RetentionPolicy,
  dryRun: boolean,
): Promise<PruneResult> {
  const objects = await scanTenant(binding, bucket, tenant);
  const { keep, remove } = decide(objects, policy);

  const removeByStamp = new Map<string, Backup[]>();
  for (const backup of remove)
    removeByStamp.set(backup.stamp, [...(removeByStamp.get(backup.stamp) ?? []), backup]);
  const owners = await legacyOwners(binding, tenant, objects.notifications, removeByStamp);
  const archives = new Set(objects.archives.map((a) => a.backupFile));

  const deleted = remove.map(({ listed: { backupFile }, base }) => {
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

  if (!dryRun) {
    const records = new Set(remove.map(({ listed }) => metadataKey(tenant, listed.backupFile)));
    const all = deleted.flatMap((d) => d.keys);
    await deleteInBatches(
      binding,
      all.filter((key) => !records.has(key)),
    );
    await deleteInBatches(binding, [...records]);
  }
  return { kept: keep, deleted };
}
