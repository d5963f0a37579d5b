// What a principal may touch, decided in one place for every route.
import { HttpError } from './http.js';

/**
 * What a tenant credential may do. `backup` (the default) adds and reads: records,
 * notifications, uploads, list, download, restore, verify, dry-run prune. `maintain` may also
 * delete (prune, DELETE of one backup). The admin token may do everything, on every tenant.
 */
export type Role = 'backup' | 'maintain';
export const ROLES: readonly Role[] = ['backup', 'maintain'];

export interface Principal {
  /** Recorded in stored metadata as `principal`. */
  name: string;
  tenants: '*' | string[];
  buckets: '*' | string[];
  /** The tenants whose backups it may delete (the `maintain` role); absent or [] for none. */
  maintains?: '*' | string[];
}

const allows = (scope: '*' | string[], value: string): boolean => scope === '*' || scope.includes(value);

/**
 * The one place access is decided. `tenant` null means "every tenant" (listing without a
 * tenant), which only a principal for all tenants may do.
 */
export function authorize(principal: Principal, tenant: string | null, bucket: string): void {
  if (!allows(principal.buckets, bucket)) {
    throw new HttpError(403, 'Forbidden', { reason: `not allowed to use bucket ${bucket}` });
  }
  if (tenant === null ? principal.tenants !== '*' : !allows(principal.tenants, tenant)) {
    throw new HttpError(403, 'Forbidden', {
      reason:
        tenant === null ? 'listing every tenant needs an admin token' : `not allowed to use tenant ${tenant}`,
    });
  }
}

/**
 * Deleting backups (prune, DELETE): the tenant and bucket as for any route, and the `maintain`
 * role for that tenant. A `backup` credential is refused before anything is read or changed.
 */
export function authorizeDeletion(principal: Principal, tenant: string, bucket: string, what: string): void {
  authorize(principal, tenant, bucket);
  if (!allows(principal.maintains ?? [], tenant)) {
    throw new HttpError(403, 'Forbidden', {
      reason:
        `${what} needs the maintain role for tenant ${tenant}; this credential has the backup role, ` +
        'which adds and reads backups but never deletes them',
      required_role: 'maintain',
    });
  }
}
