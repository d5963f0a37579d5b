// The RETENTION_POLICIES var, JSON `{"<bucket>": {"<tenant>": {"keep_last": 30, "keep_days": 90}}}`:
// which tenants the retention cron prunes, and how. Validated as a whole: a broken value fails
// closed (500-style "Worker misconfigured" naming the place, never a value).
import type { RetentionInForce } from '../../common/metadata.js';
import type { RetentionPolicy } from '../../common/retention.js';
import { ValidationError, checkBucket, checkTenant } from '../../common/validate.js';
import { misconfigured, parseConfigObject } from './config-json.js';
import type { Env } from './env.js';
import { parseRetentionLock } from './retention-lock.js';
import { POLICY_FIELDS, policyFields, policyFromFields } from './retention-policy.js';

export interface TenantPolicy {
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

/** The retention in force for a tenant, as list and inventory show it: the Worker's policy
 *  (null when RETENTION_POLICIES names none) and its lock. */
export function retentionInForce(env: Env, bucket: string, tenant: string): RetentionInForce {
  const entry = parseRetentionPolicies(env.RETENTION_POLICIES).find(
    (p) => p.bucket === bucket && p.tenant === tenant,
  );
  return {
    policy: entry ? policyFields(entry.policy) : null,
    min_retention_days: parseRetentionLock(env.MIN_RETENTION_DAYS)(tenant),
  };
}
