import { applyRetention, parseRetentionPolicy } from '../../common/retention.js';
import { stampOf } from '../../common/naming.js';

// 60 backups, one every 36 hours from Thursday 2026-01-01 10:00 UTC to 2026-03-30 22:00 UTC.
const backups = Array.from({ length: 60 }, (_, i) => ({
  time: new Date(Date.UTC(2026, 0, 1, 10) + i * 36 * 3_600_000),
}));
const keptStamps = (policy: Parameters<typeof applyRetention>[1]) =>
  applyRetention(backups, policy).keep.map(({ item }) => stampOf(item.time));

describe('retention in the manner of restic forget', () => {
  test('a combined policy keeps exactly the hand-computed set', () => {
    // Worked out by hand from the calendar (ISO weeks: W14 = Mar 30-Apr 5, W13 = Mar 23-29,
    // W12 = Mar 16-22, W11 = Mar 9-15); 7 days before the newest is 2026-03-23 22:00, so the
    // backup of 03-23 10:00 falls outside.
    const decision = applyRetention(backups, {
      keepLast: 2,
      keepDays: 7,
      keepDaily: 5,
      keepWeekly: 4,
      keepMonthly: 3,
    });
    const table: [string, string[]][] = [
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
    expect(decision.keep.map(({ item, reasons }) => [stampOf(item.time), reasons])).toEqual(table);
    expect(decision.remove).toHaveLength(60 - table.length);
  });

  test('keep-last alone keeps the N newest', () => {
    expect(keptStamps({ keepLast: 3 })).toEqual(['20260330-220000', '20260329-100000', '20260327-220000']);
  });

  test('keep-days counts back from the newest backup, not from now', () => {
    // Exactly 3 days older than the newest is outside a 3-day window.
    expect(keptStamps({ keepDays: 3 })).toEqual(['20260330-220000', '20260329-100000']);
    expect(keptStamps({ keepDays: 4 })).toEqual(['20260330-220000', '20260329-100000', '20260327-220000']);
  });

  test('keep-monthly keeps the newest of each month', () => {
    expect(keptStamps({ keepMonthly: 12 })).toEqual([
      '20260330-220000',
      '20260228-220000',
      '20260131-100000',
    ]);
  });

  test('the newest backup is kept by any policy, and no policy keeps everything', () => {
    expect(keptStamps({ keepWeekly: 1 })).toEqual(['20260330-220000']);
    expect(keptStamps({})).toHaveLength(60);
    expect(applyRetention([], { keepLast: 1 })).toEqual({ keep: [], remove: [] });
  });

  test('policies from inputs are validated', () => {
    expect(parseRetentionPolicy({ keepLast: '5', keepDays: 30, keepDaily: '' })).toEqual({
      keepLast: 5,
      keepDays: 30,
    });
    expect(() => parseRetentionPolicy({ keepLast: '0' })).toThrow(/keep-last: must be a whole number/);
    expect(() => parseRetentionPolicy({ keepDays: '1.5' }, 'input ')).toThrow(/input keep-days/);
  });
});
