// MIN_RETENTION_DAYS: a lock no credential can lift. The Worker refuses to delete any backup it
// stored less than that many days ago, whoever asks (prune, DELETE, the cron, the retention after
// a recorded backup, the admin token), so a stolen credential cannot erase the last weeks.
// Either a whole number of days for every tenant ("14"), or a JSON object of tenant -> days with
// "*" for the others ('{"*": 7, "billing": 30}'). Unset: 0 (no lock). A broken value fails
// closed: nothing is deleted until it is fixed.
import { misconfigured } from './config-json.js';
import { parsePerTenantNumber, type NumberOf } from './per-tenant-number.js';

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
export type RetentionLock = NumberOf;

export function parseRetentionLock(raw: string | undefined): RetentionLock {
  return parsePerTenantNumber(VARIABLE, RULE, raw, 0, days);
}
