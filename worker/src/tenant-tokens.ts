// Scoped tenant tokens: the secret TENANT_TOKENS holds
// {"<sha256 hex of the token>": {"tenants": ["..."], "buckets"?: ["..."], "role"?: "backup" | "maintain"}}.
// Without "role" a token is `backup`: it adds and reads backups, never deletes. Only digests are
// stored, so a leaked config reveals no token. Looking a digest up in a map is safe: an
// attacker cannot steer which SHA-256 digest their guess produces.
import type { Principal } from './access.js';
import { misconfigured, parseConfigObject } from './config-json.js';
import { grantScope, parseGrant, type GrantFields } from './grants.js';
import type { TenantBuckets } from './principal.js';

type TenantTokenEntry = Pick<GrantFields, 'tenants' | 'buckets' | 'role'>;

export type TenantTokens = ReadonlyMap<string, TenantTokenEntry>;

/** Entries are named by position in errors: a key may be a token pasted by mistake. */
export function parseTenantTokens(json: string | undefined): TenantTokens {
  const entries = new Map<string, TenantTokenEntry>();
  const parsed = parseConfigObject('TENANT_TOKENS', json) ?? {};
  Object.entries(parsed).forEach(([digest, value], index) => {
    const where = `entry ${index + 1}`;
    if (!/^[0-9a-f]{64}$/i.test(digest)) {
      throw misconfigured(
        'TENANT_TOKENS',
        `${where}: keys must be SHA-256 hex digests of tokens, not tokens`,
      );
    }
    entries.set(
      digest.toLowerCase(),
      parseGrant('TENANT_TOKENS', where, value, ['tenants', 'buckets', 'role']),
    );
  });
  return entries;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The principal of a configured token, or undefined. Its name (recorded with what it writes)
 *  is a prefix of the digest: enough to find the entry, nothing about the token. */
export async function tenantTokenPrincipal(
  token: string,
  tokens: TenantTokens,
  tenantBuckets: () => TenantBuckets,
): Promise<Principal | undefined> {
  if (tokens.size === 0) return undefined;
  const digest = await sha256Hex(token);
  const entry = tokens.get(digest);
  if (!entry) return undefined;
  return { name: `token:${digest.slice(0, 12)}`, ...grantScope(entry, tenantBuckets) };
}
