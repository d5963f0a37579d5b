// POST /api/github/backup/prune: apply a retention policy to one tenant, or with dry_run
// only say what would be deleted.
import { ValidationError, checkBucket, checkTenant } from '../../common/validate.js';
import { authorize } from './access.js';
import type { AuthedRequest } from './auth.js';
import { bucketBinding, bucketName } from './buckets.js';
import type { Env } from './env.js';
import { jsonResponse } from './http.js';
import { readJsonObject } from './json-body.js';
import { pruneTenant } from './prune.js';
import { POLICY_FIELDS, policyFromFields } from './retention-policy.js';

const PRUNE_FIELDS: readonly string[] = ['tenant', 'bucket', ...POLICY_FIELDS, 'dry_run'];

const present = (body: Record<string, unknown>, field: string): boolean =>
  body[field] !== undefined && body[field] !== null;

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
  const dryRun = body.dry_run === true;
  authorize(request.principal, tenant, bucket);

  const { kept, deleted } = await pruneTenant(bucketBinding(env, bucket), bucket, tenant, policy, dryRun);
  return jsonResponse({
    success: true,
    tenant,
    bucket,
    dry_run: dryRun,
    kept,
    deleted,
    count_kept: kept.length,
    count_deleted: deleted.length,
  });
}
