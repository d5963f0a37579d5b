// An upload's claim: the empty object an S3 upload puts at its key first, tagged with its run's
// identity (core/upload/s3-uploader.ts), so that no other run takes the key. A finished upload
// writes the archive over it; a run killed mid-upload leaves it behind, with an unfinished
// multipart upload. A claim younger than ABANDONED_AFTER_HOURS (default 6) is an upload in
// progress; an older one is abandoned, and the cron (sweep.ts) deletes it.
import { parseHoursPerTenant, DEFAULT_ABANDONED_AFTER_HOURS, type HoursOf } from './hours-per-tenant.js';
import type { StoredArchive } from './tenant-objects.js';

/** The claim's tag (s3-uploader.ts CLAIM_METADATA): the run that holds the key. */
export const CLAIM_METADATA = 'r2-backup-claim';

export const isClaim = (object: R2Object): boolean =>
  object.size === 0 && typeof object.customMetadata?.[CLAIM_METADATA] === 'string';

export const abandonedAfterHours = (raw: string | undefined): HoursOf =>
  parseHoursPerTenant('ABANDONED_AFTER_HOURS', raw, DEFAULT_ABANDONED_AFTER_HOURS);

export interface Claim {
  backup_file: string;
  key: string;
  uploaded: string;
  age_hours: number;
  /** Older than ABANDONED_AFTER_HOURS: its run is gone. */
  abandoned: boolean;
}

export function claimsOf(archives: StoredArchive[], abandonedAfter: number, now = new Date()): Claim[] {
  return archives
    .filter((a) => isClaim(a.object))
    .map(({ backupFile, object }) => {
      const hours = (now.getTime() - object.uploaded.getTime()) / 3_600_000;
      return {
        backup_file: backupFile,
        key: object.key,
        uploaded: object.uploaded.toISOString(),
        age_hours: Math.round(hours * 1000) / 1000,
        abandoned: hours > abandonedAfter,
      };
    });
}
