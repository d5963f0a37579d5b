// Who a request comes from and what it may touch. Every credential (the admin token, a tenant
// token, a GitHub OIDC identity) becomes one of these; routes only ever check a Principal.
export interface Principal {
  /** Recorded with everything the principal writes: `admin`, `token:<hash prefix>`, `oidc:<owner/repo>`. */
  name: string;
  tenants: '*' | string[];
  buckets: '*' | string[];
}

/** The buckets a tenant maps to when a credential names none: its entry in the Worker's
 *  TENANT_BUCKETS map, else `{tenant}-github-backup` (the action's default). */
export function bucketsOfTenants(tenants: string[], tenantBuckets: Record<string, string>): string[] {
  return [...new Set(tenants.map((tenant) => tenantBuckets[tenant] ?? `${tenant}-github-backup`))];
}

export function parseTenantBuckets(json: string | undefined): Record<string, string> {
  if (!json) return {};
  const parsed: unknown = JSON.parse(json);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('TENANT_BUCKETS must be a JSON object of tenant -> bucket');
  }
  return parsed as Record<string, string>;
}
