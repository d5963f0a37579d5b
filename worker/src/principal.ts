// The buckets a credential may use when it names none: each of its tenants maps to one bucket.
import { defaultBucket } from '../../common/naming.js';
import { checkBucket, checkTenant, ValidationError } from '../../common/validate.js';
import { misconfigured, parseConfigObject } from './config-json.js';

/** TENANT_BUCKETS, parsed: tenant -> bucket. A Map, so a tenant named `constructor` or
 *  `__proto__` finds nothing inherited. */
export type TenantBuckets = ReadonlyMap<string, string>;

/** The buckets of tenants: each one's TENANT_BUCKETS entry, else `{tenant}-github-backup`
 *  (the action's default bucket, spelled by common/naming.ts defaultBucket). */
export function bucketsOfTenants(tenants: string[], tenantBuckets: TenantBuckets): string[] {
  return [...new Set(tenants.map((tenant) => tenantBuckets.get(tenant) ?? defaultBucket(tenant)))];
}

export function parseTenantBuckets(json: string | undefined): TenantBuckets {
  const map = new Map<string, string>();
  for (const [tenant, bucket] of Object.entries(parseConfigObject('TENANT_BUCKETS', json) ?? {})) {
    try {
      map.set(checkTenant(tenant), checkBucket(bucket));
    } catch (error) {
      if (error instanceof ValidationError) {
        throw misconfigured('TENANT_BUCKETS', `must map tenants to bucket names: ${error.message}`);
      }
      throw error;
    }
  }
  return map;
}
