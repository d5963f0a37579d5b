// Hours per tenant (per-tenant-number.ts): a number for every tenant ("48"), or a JSON object of
// tenant -> hours with "*" for the others. Used by STALE_AFTER_HOURS
// (a tenant without a newer backup is stale) and ABANDONED_AFTER_HOURS (an upload's claim older
// than that is abandoned). A broken value fails closed with the variable and the rule named.
import { misconfigured } from './config-json.js';
import { parsePerTenantNumber, type NumberOf } from './per-tenant-number.js';

const MAX_HOURS = 24 * 366;

/** The hours of each tenant. */
export type HoursOf = NumberOf;

export function parseHoursPerTenant(variable: string, raw: string | undefined, fallback: number): HoursOf {
  const rule = `must be a number of hours above 0 and at most ${MAX_HOURS}, or a JSON object of tenant (or "*") -> such a number`;
  const hours = (value: unknown): number => {
    const n = typeof value === 'string' && /^\d+(?:\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > MAX_HOURS) {
      throw misconfigured(variable, rule);
    }
    return n;
  };
  return parsePerTenantNumber(variable, rule, raw, fallback, hours);
}

export const DEFAULT_STALE_AFTER_HOURS = 48;
export const DEFAULT_ABANDONED_AFTER_HOURS = 6;

export const staleAfterHours = (raw: string | undefined): HoursOf =>
  parseHoursPerTenant('STALE_AFTER_HOURS', raw, DEFAULT_STALE_AFTER_HOURS);
