// r2-backup sweep: what a run killed mid-upload leaves behind (its empty claim and unfinished
// multipart upload), removed on demand over S3 (core/r2/sweep.ts); the Worker's cron deletes
// abandoned claims by itself (worker/src/sweep.ts).
import { formatDuration } from '../../core/format.js';
import { sweepAbandoned } from '../../core/r2/sweep.js';
import type { Command } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  connect,
  tenantAndBucket,
} from '../connection.js';
import { UsageError } from '../usage.js';

/** The Worker's ABANDONED_AFTER_HOURS default. */
const DEFAULT_OLDER_THAN = '6h';
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} must be a duration such as 90s, 30m, 6h or 2d`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

export const sweep: Command = {
  name: 'sweep',
  summary: "remove abandoned uploads (a killed run's claim and unfinished parts)",
  help: `Usage: r2-backup sweep --tenant T [--bucket B] [--older-than DURATION] [--dry-run] [--json]

A run killed mid-upload leaves an empty claim at its archive's key (verify reports it, as an
upload in progress while young, as abandoned after 6 hours) and an unfinished multipart upload
that R2 keeps (and bills) until aborted. sweep deletes the tenant's claims older than
--older-than and aborts its multipart uploads started before then. Needs R2's S3 keys. Where R2
cannot list multipart uploads, sweep says so; R2's lifecycle rule for incomplete multipart
uploads aborts them (docs/operations.md).

  --tenant T             tenant (required; default: the R2_BACKUP_TENANT environment variable)
  --bucket B             bucket (default: {tenant}-github-backup)
  --older-than DURATION  what counts as abandoned: 90s, 30m, 6h, 2d (default ${DEFAULT_OLDER_THAN})
  --dry-run              say what would be removed, remove nothing
  --json                 print {tenant, bucket, dry_run, claims, in_progress, uploads,
                         uploads_unlisted?} instead

${CONNECTION_HELP}`,
  options: {
    ...TENANT_OPTIONS,
    ...CONNECTION_OPTIONS,
    'older-than': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const olderThanMs = parseDuration(
      typeof values['older-than'] === 'string' ? values['older-than'] : DEFAULT_OLDER_THAN,
      '--older-than',
    );
    const { s3 } = connect(values as Record<string, string>);
    if (!s3)
      throw new UsageError(
        "sweep needs R2's S3 keys (R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY with R2_ACCOUNT_ID or R2_ENDPOINT)",
      );
    const dryRun = values['dry-run'] === true;
    const result = await sweepAbandoned({ s3, bucket, tenant, olderThanMs, dryRun });
    if (values.json) {
      console.log(JSON.stringify({ tenant, bucket, dry_run: dryRun, ...result }, null, 2));
      return 0;
    }
    const verb = dryRun ? 'would delete' : 'deleted';
    for (const { key, age_ms } of result.in_progress)
      console.log(`${key}: an upload in progress (claimed ${formatDuration(age_ms)} ago), left`);
    for (const { key, age_ms } of result.claims)
      console.log(`${key}: ${verb} the abandoned claim (${formatDuration(age_ms)} old)`);
    for (const { key, upload_id, age_ms } of result.uploads)
      console.log(
        `${key}: ${dryRun ? 'would abort' : 'aborted'} multipart upload ${upload_id} (${formatDuration(age_ms)} old)`,
      );
    if (result.uploads_unlisted)
      console.log(
        `Multipart uploads not listed (${result.uploads_unlisted}): R2's lifecycle rule for incomplete multipart uploads aborts them`,
      );
    console.log(
      `Tenant ${tenant} in bucket ${bucket}: ${result.claims.length} abandoned claims ${verb}, ` +
        `${result.uploads.length} multipart uploads ${dryRun ? 'to abort' : 'aborted'}, ${result.in_progress.length} in progress`,
    );
    return 0;
  },
};
