// The layout of a repository's metadata export (include-metadata): what the exporter writes,
// `restore --metadata` renders and `replay` recreates. One tar (zstd) per backup,
// `backups/{tenant}/{stamp}.meta.tar.zst`, complete on its own:
//   manifest.json          ExportManifest (counts, partial, the cursors the next run starts from)
//   repository.json        GET /repos/{owner}/{repo} as GitHub answered it (description, topics, default branch)
//   {kind}.jsonl           one JSON object per line, as GitHub answered it, plus the fields below
//   assets/{release_id}/{asset_id}   each release asset's bytes
// Every file name here is made from this module's constants and integers, never from GitHub's text.

export const EXPORT_FORMAT = 'r2-backup-github-export-v1';

export const EXPORT_KINDS = [
  'labels',
  'milestones',
  'issues',
  'pulls',
  'issue_comments',
  'reviews',
  'review_comments',
  'releases',
] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** `issue_comments` -> `issue-comments.jsonl`. */
export const kindFile = (kind: ExportKind): string => `${kind.replace('_', '-')}.jsonl`;

export const MANIFEST_FILE = 'manifest.json';
export const REPOSITORY_FILE = 'repository.json';
export const ASSETS_DIR = 'assets';

/** Where a release asset's bytes are in the export. Both ids are GitHub's positive integers. */
export function assetPath(releaseId: number, assetId: number): string {
  for (const id of [releaseId, assetId]) {
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`Not a GitHub id: ${String(id)}`);
  }
  return `${ASSETS_DIR}/${releaseId}/${assetId}`;
}

/**
 * What identifies an item of a kind across runs (a changed item replaces the one with the same
 * key). Issues and pull requests by number; the rest by GitHub's id.
 */
export const KEY_OF: Record<ExportKind, 'id' | 'number'> = {
  labels: 'id',
  milestones: 'id',
  issues: 'number',
  pulls: 'number',
  issue_comments: 'id',
  reviews: 'id',
  review_comments: 'id',
  releases: 'id',
};

/**
 * Fields the exporter adds to GitHub's objects (GitHub's own names are left as they are):
 * - issue_comments: `issue_number` (from `issue_url`), so a comment finds its issue or pull request;
 * - reviews and review_comments: `pull_number`;
 * - labels, milestones and releases that a later run no longer found on GitHub (they are fetched
 *   whole each run, so a deletion is seen): `r2_backup_missing_since`, the ISO time of that run.
 *   They stay in the export: a backup keeps what was deleted.
 * Issues are the issues only: the items of GET /issues that are pull requests are in `pulls`.
 */
export const ADDED_FIELDS = {
  issueNumber: 'issue_number',
  pullNumber: 'pull_number',
  missingSince: 'r2_backup_missing_since',
} as const;

/** Where the next run starts: ISO times for the `since=` of each kind that has one. */
export interface ExportCursors {
  issues?: string;
  issue_comments?: string;
  review_comments?: string;
  /** Pull requests updated since this time are listed again (newest first, down to it); like the
   *  other cursors, the start of the last run that read their list to the end, minus a margin. */
  pulls?: string;
  /** Pull requests whose reviews a partial run did not fetch yet. */
  pending_reviews?: number[];
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  /** `owner/name`. */
  repository: string;
  /** When this run started fetching (ISO). */
  exported_at: string;
  /** The export the unchanged items were carried from (its backup file), if any. */
  carried_from?: string;
  /** True when the run stopped early (a rate limit it could not wait for): what it has is here,
   *  and the next run continues from `cursors`. */
  partial: boolean;
  partial_reason?: string;
  counts: Record<ExportKind | 'assets', number>;
  cursors: ExportCursors;
  /** API requests this run made (the measure of incremental runs). */
  requests: number;
}
