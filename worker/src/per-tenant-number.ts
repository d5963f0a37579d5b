// One number per tenant from one var: a value for every tenant ("48"), or a JSON object of
// tenant -> value with "*" for the others ('{"*": 48, "nightly-only": 30}'). Shared by
// MIN_RETENTION_DAYS, STALE_AFTER_HOURS and ABANDONED_AFTER_HOURS. A broken value fails closed
// with the variable and the rule named.
import { ValidationError, checkTenant } from '../../common/validate.js';
import { misconfigured } from './config-json.js';

/** The number of each tenant. */
export type NumberOf = (tenant: string) => number;

/**
 * `valueOf` checks one value (a string from the plain form, a number from the JSON form) and
 * throws `misconfigured(variable, rule)` when it breaks the rule.
 */
export function parsePerTenantNumber(
  variable: string,
  rule: string,
  raw: string | undefined,
  fallback: number,
  valueOf: (value: unknown) => number,
): NumberOf {
  if (raw === undefined || raw.trim() === '') return () => fallback;
  const text = raw.trim();
  if (!text.startsWith('{')) {
    const all = valueOf(text);
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
    byTenant.set(tenant, valueOf(value));
  }
  const others = byTenant.get('*') ?? fallback;
  return (tenant) => byTenant.get(tenant) ?? others;
}
