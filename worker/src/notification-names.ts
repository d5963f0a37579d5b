// How notifications are named, and which backup a notification belongs to, so that pruning a
// backup removes exactly its notifications.
//
// A notification for a backup is `{backup_file}.{random}`: the archive name (unique per
// backup, unlike its stamp, which a tenant-prefixed and a plain name can share) makes the
// association exact from the key alone. One without a backup is `{stamp}-{random}` with the
// current stamp. Notifications stored before this naming are `{stamp}-{random}` with the
// backup's stamp; their body's `backup_file` decides (see legacyStampOf).
import { stampOf } from '../../common/naming.js';

const SUFFIX = /^[0-9a-f]{8}$/;
const LEGACY = /^(\d{8}-\d{6}(?:-\d{1,4})?)-([0-9a-f]{8})$/;

export function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The name (without folder and `.json`) of a new notification. */
export function notificationName(backupFile: string | undefined, now: Date, suffix = randomSuffix()): string {
  return backupFile === undefined ? `${stampOf(now)}-${suffix}` : `${backupFile}.${suffix}`;
}

/** True when `name` is a notification of `backupFile` in the current naming. */
export function namesBackup(name: string, backupFile: string): boolean {
  return name.startsWith(`${backupFile}.`) && SUFFIX.test(name.slice(backupFile.length + 1));
}

/** The stamp of a `{stamp}-{random}` name: a notification stored before the current naming,
 *  or one without a backup; null for any other name. */
export function legacyStampOf(name: string): string | null {
  return LEGACY.exec(name)?.[1] ?? null;
}
