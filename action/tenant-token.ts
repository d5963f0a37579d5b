// `r2-backup token create`: a random tenant token, shown once, and the TENANT_TOKENS entry the
// Worker needs, which holds only the token's SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import { checkBucket, checkTenant } from '../common/validate.js';

export interface TenantToken {
  token: string;
  sha256: string;
  /** `"<sha256>": {"tenants": [...], "buckets": [...]}`, to merge into the TENANT_TOKENS JSON. */
  configEntry: string;
}

export function createTenantToken(tenants: string[], buckets: string[] = []): TenantToken {
  if (tenants.length === 0) throw new Error('token create needs at least one --tenant');
  tenants.forEach((tenant) => checkTenant(tenant));
  buckets.forEach((bucket) => checkBucket(bucket));
  const token = `r2b_${randomBytes(32).toString('base64url')}`;
  const sha256 = createHash('sha256').update(token).digest('hex');
  const scope = buckets.length > 0 ? { tenants, buckets } : { tenants };
  return { token, sha256, configEntry: `${JSON.stringify(sha256)}: ${JSON.stringify(scope)}` };
}
