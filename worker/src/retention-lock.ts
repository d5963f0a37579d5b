// MIN_RETENTION_DAYS: a lock no credential can lift. The Worker refuses to delete any backup it
// stored less than that many days ago, whoever asks (prune, DELETE, the cron, the retention after
// a recorded backup, the admin token), so a stolen credential cannot erase the last weeks.
// Either a whole number of days for every tenant ("14"), or a JSON object of tenant -> days with
// "*" for the others ('{"*": 7, "billing": 30}'). Unset: 0 (no lock). A broken value fails
// closed: nothing is deleted until it is fixed.
import { ValidationError, checkTenant } from '../../common/validate.js';
import { misconfigured } from './config-json.js';

const VARIABLE = 'MIN_RETENTION_DAYS';
const MAX_DAYS = 36_500;
const RULE = `must be a whole number of days from 0 to ${MAX_DAYS}, or a JSON object of tenant (or "*") -> such a number`;

function days(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_DAYS) {
    throw misconfigured(VARIABLE, RULE);
  }
  return n;
}

/** The lock in days of each tenant. */
export type RetentionLock = (tenant: string) => number;

export function parseRetentionLock(raw: string | undefined): RetentionLock {
  if (raw === undefined || raw.trim() === '') return () => 0;
  const text = raw.trim();
  if (!text.startsWith('{')) {
    const all = days(text);
    return () => all;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw misconfigured(VARIABLE, RULE);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw misconfigured(VARIABLE, RULE);
  }
  const byTenant = new Map<string, number>();
  for (const [tenant, value] of Object.entries(parsed)) {
    if (tenant !== '*') {
      try {
        checkTenant(tenant);
      } catch (error) {
        if (error instanceof ValidationError)
          throw misconfigured(VARIABLE, `keys must be tenant names or "*"`);
        throw error;
      }
    }
    if (typeof value !== 'number') throw misconfigured(VARIABLE, RULE);
    byTenant.set(tenant, days(value));
  }
  const others = byTenant.get('*') ?? 0;
  return (tenant) => byTenant.get(tenant) ?? others;
}
