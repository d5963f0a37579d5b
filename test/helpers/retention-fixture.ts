// The retention schedule shared by the pure-logic tests and the Worker's prune tests: 60
// backups, one every 36 hours from Thursday 2026-01-01 10:00 UTC to 2026-03-30 22:00 UTC, and
// the set a combined policy keeps, worked out by hand from the calendar.
import type { RetentionPolicy } from '../../common/retention.js';

export const BACKUP_TIMES: Date[] = Array.from(
  { length: 60 },
  (_, i) => new Date(Date.UTC(2026, 0, 1, 10) + i * 36 * 3_600_000),
);

export const COMBINED_POLICY: RetentionPolicy = {
  keepLast: 2,
  keepDays: 7,
  keepDaily: 5,
  keepWeekly: 4,
  keepMonthly: 3,
};

// ISO weeks: W14 = Mar 30-Apr 5, W13 = Mar 23-29, W12 = Mar 16-22, W11 = Mar 9-15; 7 days
// before the newest is 2026-03-23 22:00, so the backup of 03-23 10:00 falls outside.
export const COMBINED_POLICY_KEEPS: [string, string[]][] = [
  [
    '20260330-220000',
    ['newest', 'within 7 days', 'last', 'daily 2026-03-30', 'weekly 2026-W14', 'monthly 2026-03'],
  ],
  ['20260329-100000', ['within 7 days', 'last', 'daily 2026-03-29', 'weekly 2026-W13']],
  ['20260327-220000', ['within 7 days', 'daily 2026-03-27']],
  ['20260326-100000', ['within 7 days', 'daily 2026-03-26']],
  ['20260324-220000', ['within 7 days', 'daily 2026-03-24']],
  ['20260321-220000', ['weekly 2026-W12']],
  ['20260315-220000', ['weekly 2026-W11']],
  ['20260228-220000', ['monthly 2026-02']],
  ['20260131-100000', ['monthly 2026-01']],
];
