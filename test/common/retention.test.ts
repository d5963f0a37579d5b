import { applyRetention, parseRetentionPolicy } from '../../common/retention.js';
import { stampOf } from '../../common/naming.js';
import { BACKUP_TIMES, COMBINED_POLICY, COMBINED_POLICY_KEEPS } from '../helpers/retention-fixture.js';

const backups = BACKUP_TIMES.map((time) => ({ time }));
const keptStamps = (policy: Parameters<typeof applyRetention>[1]) =>
  applyRetention(backups, policy).keep.map(({ item }) => stampOf(item.time));

describe('retention in the manner of restic forget', () => {
  test('a combined policy keeps exactly the hand-computed set', () => {
    const decision = applyRetention(backups, COMBINED_POLICY);
    const table = COMBINED_POLICY_KEEPS;
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
