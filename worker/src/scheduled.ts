// The cron trigger (worker/wrangler.toml): applies the per-tenant retention policies of the
// RETENTION_POLICIES var, JSON `{"<bucket>": {"<tenant>": {"keep_last": 30, "keep_days": 90}}}`,
// and logs one line per tenant. A broken config prunes nothing; a tenant that fails does not
// stop the others, but fails the run.
import type { RetentionPolicy } from '../../common/retention.js';
import { ValidationError, checkBucket, checkTenant } from '../../common/validate.js';
import { bucketBinding } from './buckets.js';
import { misconfigured, parseConfigObject } from './config-json.js';
import type { Env } from './env.js';
import { POLICY_FIELDS, policyFromFields } from './retention-policy.js';
import { pruneTenant } from './prune.js';

interface TenantPolicy {
  bucket: string;
  tenant: string;
  policy: RetentionPolicy;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseRetentionPolicies(raw: string | undefined): TenantPolicy[] {
  const variable = 'RETENTION_POLICIES';
  const policies: TenantPolicy[] = [];
  for (const [bucket, tenants] of Object.entries(parseConfigObject(variable, raw) ?? {})) {
    try {
      checkBucket(bucket, 'bucket name');
      if (!isObject(tenants)) throw new ValidationError(bucket, 'must map tenants to policies');
      for (const [tenant, fields] of Object.entries(tenants)) {
        checkTenant(tenant, `${bucket}: tenant name`);
        const where = `${bucket}.${tenant}.`;
        if (!isObject(fields)) throw new ValidationError(`${where}policy`, 'must be an object');
        const unknown = Object.keys(fields).find((field) => !POLICY_FIELDS.includes(field));
        if (unknown !== undefined) throw new ValidationError(`${where}${unknown}`, 'is not a known field');
        policies.push({ bucket, tenant, policy: policyFromFields(fields, where) });
      }
    } catch (error) {
      if (error instanceof ValidationError) throw misconfigured(variable, error.message);
      throw error;
    }
  }
  return policies;
}

export async function scheduled(_controller: ScheduledController, env: Env): Promise<void> {
  const policies = parseRetentionPolicies(env.RETENTION_POLICIES);
  // Every bucket must be bound before anything is deleted.
  const bindings = policies.map(({ bucket }) => {
    try {
      return bucketBinding(env, bucket);
    } catch {
      throw misconfigured('RETENTION_POLICIES', `names bucket ${bucket}, which this Worker does not bind`);
    }
  });
  let failed = 0;
  for (const [i, { bucket, tenant, policy }] of policies.entries()) {
    try {
      const { kept, deleted } = await pruneTenant(bindings[i]!, bucket, tenant, policy, false);
      console.log(`retention ${bucket}/${tenant}: kept ${kept.length}, deleted ${deleted.length}`);
    } catch (error) {
      failed++;
      console.error(
        `retention ${bucket}/${tenant}: failed: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
  }
  if (failed > 0) throw new Error(`retention failed for ${failed} of ${policies.length} tenants`);
}
