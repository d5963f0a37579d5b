// What a principal may touch, decided in one place for every route.
import { HttpError } from './http.js';

export interface Principal {
  /** Recorded in stored metadata as `principal`. */
  name: string;
  tenants: '*' | string[];
  buckets: '*' | string[];
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
