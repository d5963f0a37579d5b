// One record type for a backup, shared by the action (which sends it), the Worker (which
// stores and lists it) and the CLI (which restores and verifies from it).
import type { Compression } from './validate.js';

/** What the action sends to `POST /api/github/backup`. Only the seed's fields are required. */
export interface BackupMetadataInput {
  // The seed's body.
  tenant: string;
  bucket: string;
  repo: string;
  branch: string;
  commit: string;
  backup_file: string;
  action: string;
  // What makes a backup verifiable and auditable (design.md); optional.
  key?: string;
  size?: number;
  sha256?: string;
  compression?: Compression;
  file_count?: number;
  excludes?: string[];
  created_at?: string;
  event?: string;
  actor?: string;
  run_id?: string;
  run_url?: string;
  duration_ms?: number;
  action_version?: string;
  // The git history (include-git-history): `backups/{tenant}/{stamp}.bundle`.
  bundle_key?: string;
  bundle_size?: number;
  bundle_sha256?: string;
  /** The checkout was shallow: the bundle lacks the history before its boundary commits. */
  bundle_shallow?: boolean;
  // The repository beyond its files (include-metadata): issues, pull requests, releases...
  // exported through GitHub's API to `backups/{tenant}/{stamp}.meta.tar.zst` (core/github).
  meta_key?: string;
  meta_size?: number;
  meta_sha256?: string;
  /** Items per kind in the export (issues, pulls, issue_comments, ..., assets). */
  meta_counts?: Record<string, number>;
  /** The export stopped at a rate limit: it holds what was fetched, the next run continues. */
  meta_partial?: boolean;
  // The wiki's git history (include-wiki): `backups/{tenant}/{stamp}.wiki.bundle`.
  wiki_key?: string;
  wiki_size?: number;
  wiki_sha256?: string;
  // The LFS objects of every ref (include-lfs), stored once each under `lfs/{tenant}/{oid}`;
  // their list (oid and size, JSON) at `backups/{tenant}/{stamp}.lfs.json`.
  lfs_key?: string;
  lfs_size?: number;
  lfs_sha256?: string;
  lfs_count?: number;
  lfs_bytes?: number;
  /** The archive (and its bundle) are age files (`.age`, encryption-recipients); size and
   *  sha256 are of the stored, encrypted bytes. */
  encrypted?: boolean;
  /** With `encrypted`: who can decrypt it, as recipient fingerprints (core/crypto), never keys. */
  recipients?: string[];
  /** `repair`: recorded after the fact from the archive object's own metadata (core/r2/repair.ts),
   *  by a later run or `r2-backup verify --repair`, because the run's own record failed. */
  recorded_by?: RecordedBy;
}

export const RECORDED_BY = ['repair'] as const;
export type RecordedBy = (typeof RECORDED_BY)[number];

/** Whether the Worker vouches for a record: it signed it (`verified`), it did not (`unsigned`:
 *  written by the seed's Worker, or planted over S3), or the record changed since (`tampered`). */
export type RecordVerification = 'verified' | 'unsigned' | 'tampered';

/** What the Worker stores: the input plus who sent it, when, and its signature. Records of the
 *  seed's Worker may lack everything but the seed's fields. */
export interface BackupMetadata extends BackupMetadataInput {
  key: string;
  stored_at: string;
  principal: string;
  /** HMAC-SHA-256 of the record by the Worker (record-signature.ts). */
  signature?: string;
  /** Set by the Worker when it answers, never stored. */
  verification?: RecordVerification;
}

export const NOTIFICATION_STATUSES = ['success', 'failure', 'cancelled'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** What the action sends to `POST /api/github/backup/notify`. */
export interface BackupNotificationInput {
  tenant: string;
  bucket: string;
  repo: string;
  branch: string;
  commit: string;
  status: NotificationStatus;
  backup_file?: string;
  message?: string;
  run_url?: string;
  /** `drill`: the outcome of a restore drill (`r2-backup drill`), not of a backup run. */
  kind?: NotificationKind;
}

export const NOTIFICATION_KINDS = ['drill'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** What the Worker's retention does to a tenant's backups: its policy (null: none, nothing is
 *  pruned unless a maintain credential asks) and how many days a backup is locked for. */
export interface RetentionInForce {
  policy: Record<string, number> | null;
  min_retention_days: number;
}

export interface ListResponse {
  success: true;
  tenant: string | null;
  bucket: string;
  backups: BackupMetadata[];
  count: number;
  cursor?: string;
  /** When one tenant is listed. */
  retention?: RetentionInForce;
}

/** The prune route's answer: what a retention policy keeps and deletes, newest first. */
export interface PruneResponse {
  success: true;
  tenant: string;
  bucket: string;
  dry_run: boolean;
  kept: { backup_file: string; reasons: string[] }[];
  deleted: { backup_file: string; keys: string[] }[];
  count_kept: number;
  count_deleted: number;
}

/** The inventory route's answer: archives and records of a tenant, and how they disagree. */
export interface InventoryResponse {
  success: true;
  tenant: string;
  bucket: string;
  retention: RetentionInForce;
  archives: { backup_file: string; key: string; size: number; etag: string; uploaded: string }[];
  bundles: { key: string; size: number; etag: string; uploaded: string }[];
  records: {
    backup_file: string;
    verification: RecordVerification;
    size?: number;
    sha256?: string;
    compression?: string;
    bundle_key?: string;
    bundle_size?: number;
    bundle_sha256?: string;
    recorded_by?: RecordedBy;
    /** The metadata export, wiki bundle and LFS list the record names (absent before 1.1). */
    companions?: { kind: 'meta' | 'wiki' | 'lfs'; key: string; size?: number; sha256?: string }[];
  }[];
  missing_archives: string[];
  orphan_archives: string[];
  /** Which orphan archives are uploads' empty claims: in progress, or abandoned after
   *  `abandoned_after_hours` (absent from a Worker older than issue 20). */
  claims?: { backup_file: string; key: string; uploaded: string; age_hours: number; abandoned: boolean }[];
  abandoned_after_hours?: number;
  size_mismatches: { backup_file: string; recorded: number; stored: number }[];
  missing_bundles: string[];
  orphan_bundles: string[];
  bundle_size_mismatches: { key: string; recorded: number; stored: number }[];
  /** Metadata exports, wiki bundles and LFS lists, checked like the bundles (absent before 1.1). */
  companions?: { key: string; size: number; etag: string; uploaded: string }[];
  missing_companions?: string[];
  orphan_companions?: string[];
  companion_size_mismatches?: { key: string; recorded: number; stored: number }[];
}

/** What the Worker stores for a notification: the input plus who sent it and when. */
export interface BackupNotification extends BackupNotificationInput {
  stored_at: string;
  principal: string;
}
