// POST /api/github/backup/prune: apply a retention policy to one tenant, or with dry_run
// only say what would be deleted. Deleting needs the maintain role (a dry run only reads);
// MIN_RETENTION_DAYS and the asking run's own backups are kept whatever the policy says.
import { ValidationError, checkBackupFile, checkBucket, checkTenant } from '../../common/validate.js';
import { authorize, authorizeDeletion } from './access.js';
import type { AuthedRequest } from './auth.js';
import { bucketBinding, bucketName } from './buckets.js';
import type { Env } from './env.js';
import { jsonResponse } from './http.js';
import { readJsonObject } from './json-body.js';
import { pruneTenant, type PruningRun, MAX_RUN_MS } from './prune.js';
import { parseRetentionLock } from './retention-lock.js';
import { POLICY_FIELDS, policyFromFields } from './retention-policy.js';

const PRUNE_FIELDS: readonly string[] = ['tenant', 'bucket', ...POLICY_FIELDS, 'dry_run', 'run'];
/** A run longer than a week is no run: GitHub stops jobs after 6 hours (self-hosted: 5 days). */

const present = (body: Record<string, unknown>, field: string): boolean =>
  body[field] !== undefined && body[field] !== null;

/** `run: {backup_file, started_ms_ago}`: the caller's run, whose backups the prune keeps. */
function parseRun(value: unknown, tenant: string): PruningRun {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('run', 'must be an object {"backup_file": ..., "started_ms_ago": ...}');
  }
  const { backup_file, started_ms_ago, ...unknown } = value as Record<string, unknown>;
  const extra = Object.keys(unknown)[0];
  if (extra !== undefined) throw new ValidationError(`run.${extra}`, 'is not a known field');
  checkBackupFile(backup_file, tenant, 'run.backup_file');
  if (
    typeof started_ms_ago !== 'number' ||
    !Number.isInteger(started_ms_ago) ||
    started_ms_ago < 0 ||
    started_ms_ago > MAX_RUN_MS
  ) {
    throw new ValidationError(
      'run.started_ms_ago',
      `must be a whole number of milliseconds from 0 to ${MAX_RUN_MS}`,
    );
  }
  return { backupFile: backup_file as string, startedMsAgo: started_ms_ago };
}

export async function pruneBackups(request: AuthedRequest, env: Env): Promise<Response> {
  const body = await readJsonObject(request);
  for (const field of Object.keys(body)) {
    if (!PRUNE_FIELDS.includes(field)) throw new ValidationError(field, 'is not a known field');
  }
  if (!present(body, 'tenant')) throw new ValidationError('tenant', 'is required');
  const tenant = checkTenant(body.tenant);
  const bucket = bucketName(env, present(body, 'bucket') ? checkBucket(body.bucket) : undefined);
  const policy = policyFromFields(body);
  if (present(body, 'dry_run') && typeof body.dry_run !== 'boolean') {
    throw new ValidationError('dry_run', 'must be true or false');
  }
  const run = present(body, 'run') ? parseRun(body.run, tenant) : undefined;
  const dryRun = body.dry_run === true;
  // A dry run only reads: a backup credential may see what a policy would do.
  if (dryRun) authorize(request.principal, tenant, bucket);
  else authorizeDeletion(request.principal, tenant, bucket, 'pruning (deleting) backups');
  const lockDays = parseRetentionLock(env.MIN_RETENTION_DAYS)(tenant);

  const { kept, deleted, notifications } = await pruneTenant(
    bucketBinding(env, bucket),
    bucket,
    tenant,
    policy,
    {
      dryRun,
      lockDays,
      run,
    },
  );
  return jsonResponse({
    success: true,
    tenant,
    bucket,
    dry_run: dryRun,
    min_retention_days: lockDays,
    kept,
    deleted,
    count_kept: kept.length,
    count_deleted: deleted.length,
    // Notifications of no backup, from before the oldest backup kept.
    deleted_notifications: notifications,
  });
}
