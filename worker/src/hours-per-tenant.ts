// Hours per tenant from one var: a number for every tenant ("48"), or a JSON object of tenant ->
// hours with "*" for the others ('{"*": 48, "nightly-only": 30}'). Used by STALE_AFTER_HOURS
// (a tenant without a newer backup is stale) and ABANDONED_AFTER_HOURS (an upload's claim older
// than that is abandoned). A broken value fails closed with the variable and the rule named.
import { ValidationError, checkTenant } from '../../common/validate.js';
import { misconfigured } from './config-json.js';

const MAX_HOURS = 24 * 366;

/** The hours of each tenant. */
export type HoursOf = (tenant: string) => number;

export function parseHoursPerTenant(variable: string, raw: string | undefined, fallback: number): HoursOf {
  const rule = `must be a number of hours above 0 and at most ${MAX_HOURS}, or a JSON object of tenant (or "*") -> such a number`;
  const hours = (value: unknown): number => {
    const n = typeof value === 'string' && /^\d+(?:\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > MAX_HOURS) {
      throw misconfigured(variable, rule);
    }
    return n;
  };
  if (raw === undefined || raw.trim() === '') return () => fallback;
  const text = raw.trim();
  if (!text.startsWith('{')) {
    const all = hours(text);
    return () => all;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw misconfigured(variable, rule);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw misconfigured(variable, rule);
  }
  const byTenant = new Map<string, number>();
  for (const [tenant, value] of Object.entries(parsed)) {
    if (tenant !== '*') {
      try {
        checkTenant(tenant);
      } catch (error) {
        if (error instanceof ValidationError)
          throw misconfigured(variable, 'keys must be tenant names or "*"');
        throw error;
      }
    }
    if (typeof value !== 'number') throw misconfigured(variable, rule);
    byTenant.set(tenant, hours(value));
  }
  const others = byTenant.get('*') ?? fallback;
  return (tenant) => byTenant.get(tenant) ?? others;
}

export const DEFAULT_STALE_AFTER_HOURS = 48;
export const DEFAULT_ABANDONED_AFTER_HOURS = 6;

export const staleAfterHours = (raw: string | undefined): HoursOf =>
  parseHoursPerTenant('STALE_AFTER_HOURS', raw, DEFAULT_STALE_AFTER_HOURS);
