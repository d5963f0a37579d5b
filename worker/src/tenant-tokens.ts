// Scoped tenant tokens: the secret TENANT_TOKENS holds
// {"<sha256 hex of the token>": {"tenants": ["..."], "buckets": ["..."]}}. Only digests are
// stored, so a leaked config reveals no token. Looking a digest up in a map is safe: an
// attacker cannot steer which SHA-256 digest their guess produces.
import { checkBucket, checkTenant } from '../../common/validate.js';
import { bucketsOfTenants, type Principal } from './principal.js';

interface TenantTokenEntry {
  tenants: string[];
  buckets?: string[];
}

export function parseTenantTokens(json: string | undefined): Map<string, TenantTokenEntry> {
  const entries = new Map<string, TenantTokenEntry>();
  if (!json) return entries;
  const parsed: unknown = JSON.parse(json);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('TENANT_TOKENS must be a JSON object keyed by SHA-256 hex digests');
  }
  for (const [digest, value] of Object.entries(parsed)) {
    const entry = value as Partial<TenantTokenEntry> | null;
    if (
      !/^[0-9a-f]{64}$/.test(digest) ||
      !entry ||
      !Array.isArray(entry.tenants) ||
      entry.tenants.length === 0
    ) {
      throw new Error(
        `TENANT_TOKENS entry ${digest.slice(0, 12)}… needs a sha256 hex key and a non-empty "tenants" list`,
      );
    }
    entry.tenants.forEach((tenant) => checkTenant(tenant, 'TENANT_TOKENS tenant'));
    entry.buckets?.forEach((bucket) => checkBucket(bucket, 'TENANT_TOKENS bucket'));
    entries.set(digest, { tenants: entry.tenants, buckets: entry.buckets });
  }
  return entries;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export async function tenantTokenPrincipal(
  token: string,
  tokens: Map<string, TenantTokenEntry>,
  tenantBuckets: Record<string, string>,
): Promise<Principal | undefined> {
  if (tokens.size === 0) return undefined;
  const digest = await sha256Hex(token);
  const entry = tokens.get(digest);
  if (!entry) return undefined;
  return {
    name: `token:${digest.slice(0, 12)}`,
    tenants: entry.tenants,
    buckets: entry.buckets ?? bucketsOfTenants(entry.tenants, tenantBuckets),
  };
}
