// Which backups a retention policy keeps, in the manner of `restic forget`: a backup is kept
// when any rule keeps it, and the newest backup is always kept. Pure logic, shared by the CLI,
// the action (keep-last / keep-days after a backup) and the Worker's prune route and cron.
import { ValidationError } from './validate.js';

export interface RetentionPolicy {
  /** The N newest backups. */
  keepLast?: number;
  /** Every backup less than D days older than the newest one (restic's --keep-within, so a
   *  tenant whose backups stopped keeps its last D days instead of losing all but one). */
  keepDays?: number;
  /** The newest backup of each of the last N days (UTC) that have backups. */
  keepDaily?: number;
  /** The newest backup of each of the last N ISO weeks that have backups. */
  keepWeekly?: number;
  /** The newest backup of each of the last N calendar months (UTC) that have backups. */
  keepMonthly?: number;
}

export const POLICY_RULES = ['keepLast', 'keepDays', 'keepDaily', 'keepWeekly', 'keepMonthly'] as const;
type Rule = (typeof POLICY_RULES)[number];

export interface Dated {
  time: Date;
}

export interface RetentionDecision<T extends Dated> {
  keep: { item: T; reasons: string[] }[];
  remove: T[];
}

const DAY_MS = 86_400_000;

function isoWeek(date: Date): string {
  // ISO 8601: a week belongs to the year of its Thursday.
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 4 - (thursday.getUTCDay() || 7));
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((thursday.getTime() - yearStart) / DAY_MS + 1) / 7);
  return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

const BUCKETS: Record<Exclude<Rule, 'keepDays'>, (time: Date, index: number) => string> = {
  keepLast: (_time, index) => String(index), // every backup is a bucket of its own
  keepDaily: (time) => time.toISOString().slice(0, 10),
  keepWeekly: isoWeek,
  keepMonthly: (time) => time.toISOString().slice(0, 7),
};

export function isEmptyPolicy(policy: RetentionPolicy): boolean {
  return POLICY_RULES.every((rule) => policy[rule] === undefined);
}

export function applyRetention<T extends Dated>(items: T[], policy: RetentionPolicy): RetentionDecision<T> {
  const newestFirst = [...items].sort((a, b) => b.time.getTime() - a.time.getTime());
  if (isEmptyPolicy(policy))
    return { keep: newestFirst.map((item) => ({ item, reasons: ['no policy'] })), remove: [] };

  const left: Partial<Record<Rule, number>> = { ...policy };
  const lastBucket: Partial<Record<Rule, string>> = {};
  const newest = newestFirst[0]?.time.getTime() ?? 0;
  const decision: RetentionDecision<T> = { keep: [], remove: [] };

  newestFirst.forEach((item, index) => {
    const reasons: string[] = [];
    if (index === 0) reasons.push('newest');
    if (policy.keepDays !== undefined && newest - item.time.getTime() < policy.keepDays * DAY_MS) {
      reasons.push(`within ${policy.keepDays} days`);
    }
    for (const rule of ['keepLast', 'keepDaily', 'keepWeekly', 'keepMonthly'] as const) {
      const count = left[rule];
      if (!count) continue;
      const bucket = BUCKETS[rule](item.time, index);
      if (bucket === lastBucket[rule]) continue;
      lastBucket[rule] = bucket;
      left[rule] = count - 1;
      reasons.push(rule === 'keepLast' ? 'last' : `${rule.slice(4).toLowerCase()} ${bucket}`);
    }
    if (reasons.length > 0) decision.keep.push({ item, reasons });
    else decision.remove.push(item);
  });
  return decision;
}

/** A policy from loosely typed input (action inputs, CLI flags, Worker config). */
export function parseRetentionPolicy(input: Record<string, unknown>, fieldPrefix = ''): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const rule of POLICY_RULES) {
    const raw = input[rule];
    if (raw === undefined || raw === null || raw === '') continue;
    const value = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 100_000) {
      const name = `${fieldPrefix}${rule.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new ValidationError(name, 'must be a whole number from 1 to 100000');
    }
    policy[rule] = value;
  }
  return policy;
}
