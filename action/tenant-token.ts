// `r2-backup token create`: a random tenant token, shown once, and the TENANT_TOKENS entry the
// Worker needs, which holds only the token's SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import { checkBucket, checkTenant } from '../common/validate.js';

export interface TenantToken {
  /** 256 random bits, base64url: no dots, so the Worker never mistakes it for an OIDC token. */
  token: string;
  sha256: string;
  /** `"<sha256>": {"tenants": [...], "buckets": [...]}`, to merge into the TENANT_TOKENS JSON. */
  configEntry: string;
  /** How the Worker records what this token writes (the `principal` of records). */
  principal: string;
}

export function createTenantToken(tenants: string[], buckets: string[] = []): TenantToken {
  if (tenants.length === 0) throw new Error('token create needs at least one --tenant');
  const scope = {
    tenants: [...new Set(tenants.map((tenant) => checkTenant(tenant)))],
    ...(buckets.length > 0 ? { buckets: [...new Set(buckets.map((bucket) => checkBucket(bucket)))] } : {}),
  };
  const token = `r2b_${randomBytes(32).toString('base64url')}`;
  const sha256 = createHash('sha256').update(token).digest('hex');
  return {
    token,
    sha256,
    configEntry: `${JSON.stringify(sha256)}: ${JSON.stringify(scope)}`,
    principal: `token:${sha256.slice(0, 12)}`,
  };
}
