// `r2-backup token create`: a random tenant token, shown once, and the TENANT_TOKENS entry the
// Worker needs, which holds only the token's SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import { checkBucket, checkTenant } from '../../common/validate.js';

export interface TenantToken {
  /** 256 random bits, base64url: no dots, so the Worker never mistakes it for an OIDC token. */
  token: string;
  sha256: string;
  /** `"<sha256>": {"tenants": [...], "buckets"?: [...], "role": ...}`, to merge into the TENANT_TOKENS JSON. */
  configEntry: string;
  /** How the Worker records what this token writes (the `principal` of records). */
  principal: string;
}

/** `backup` adds and reads backups; `maintain` may also prune and delete them. */
export type TokenRole = 'backup' | 'maintain';

export function createTenantToken(
  tenants: string[],
  buckets: string[] = [],
  role: TokenRole = 'backup',
): TenantToken {
  if (tenants.length === 0) throw new Error('token create needs at least one --tenant');
  if (role !== 'backup' && role !== 'maintain') throw new Error('the role is "backup" or "maintain"');
  const scope = {
    tenants: [...new Set(tenants.map((tenant) => checkTenant(tenant)))],
    ...(buckets.length > 0 ? { buckets: [...new Set(buckets.map((bucket) => checkBucket(bucket)))] } : {}),
    role,
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
