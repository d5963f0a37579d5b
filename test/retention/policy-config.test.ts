// Pure logic of the Worker's retention: policy fields as requests and RETENTION_POLICIES name
// them, notification naming and which backup a notification belongs to, stamps as times.
import { timeOfStamp } from '../../common/naming.js';
import { legacyStampOf, namesBackup, notificationName } from '../../worker/src/notification-names.js';
import { policyFromFields } from '../../worker/src/retention-policy.js';
import { parseRetentionPolicies } from '../../worker/src/retention-config.js';
import { parseRetentionLock } from '../../worker/src/retention-lock.js';

test('policy fields are snake_case numbers, at least one of them', () => {
  expect(policyFromFields({ keep_last: 3, keep_monthly: 12, dry_run: true })).toEqual({
    keepLast: 3,
    keepMonthly: 12,
  });
  expect(() => policyFromFields({})).toThrow(/Invalid policy: at least one of keep_last, keep_days/);
  expect(() => policyFromFields({ keep_days: '7' })).toThrow(/Invalid keep_days: must be a whole number/);
  expect(() => policyFromFields({ keep_daily: 100_001 })).toThrow(/keep_daily/);
});

test('RETENTION_POLICIES is validated as a whole, naming the place but never the value', () => {
  expect(parseRetentionPolicies(undefined)).toEqual([]);
  expect(parseRetentionPolicies('{"my-bucket": {"a": {"keep_last": 2}, "b": {"keep_days": 30}}}')).toEqual([
    { bucket: 'my-bucket', tenant: 'a', policy: { keepLast: 2 } },
    { bucket: 'my-bucket', tenant: 'b', policy: { keepDays: 30 } },
  ]);
  const broken: [string, RegExp][] = [
    ['{"my-bucket": ', /RETENTION_POLICIES is not valid JSON/],
    ['{"My_Bucket": {}}', /RETENTION_POLICIES Invalid bucket name/],
    ['{"my-bucket": []}', /must map tenants to policies/],
    ['{"my-bucket": {"../x": {"keep_last": 1}}}', /my-bucket: tenant name/],
    ['{"my-bucket": {"a": {}}}', /my-bucket\.a\.policy: at least one/],
    ['{"my-bucket": {"a": {"keep_last": 0}}}', /my-bucket\.a\.keep_last: must be a whole number/],
    ['{"my-bucket": {"a": {"keep_hourly": 1}}}', /my-bucket\.a\.keep_hourly: is not a known field/],
  ];
  for (const [raw, message] of broken) {
    expect(() => parseRetentionPolicies(raw)).toThrow(message);
    expect(() => parseRetentionPolicies(raw)).toThrow(/^Worker misconfigured: /);
  }
});

test("a notification belongs to exactly its backup's file name", () => {
  const name = notificationName('20260101-120000.tar.gz', new Date(), '0123abcd');
  expect(name).toBe('20260101-120000.tar.gz.0123abcd');
  expect(namesBackup(name, '20260101-120000.tar.gz')).toBe(true);
  // Same stamp, other backups: another run, the tenant-prefixed form, another compression.
  expect(namesBackup('20260101-120000-2.tar.gz.0123abcd', '20260101-120000.tar.gz')).toBe(false);
  expect(namesBackup('t-20260101-120000.tar.gz.0123abcd', '20260101-120000.tar.gz')).toBe(false);
  expect(namesBackup('20260101-120000.tar.gz.0123abcd', '20260101-120000.tar')).toBe(false);
  expect(notificationName(undefined, new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), 'ffffffff')).toBe(
    '20260102-030405-ffffffff',
  );
  expect(legacyStampOf('20260101-120000-2-0123abcd')).toBe('20260101-120000-2');
  expect(legacyStampOf('20260101-120000-01234567')).toBe('20260101-120000');
  expect(legacyStampOf(name)).toBeNull();
});

test('a stamp names its UTC second', () => {
  expect(timeOfStamp('20260330-220000').toISOString()).toBe('2026-03-30T22:00:00.000Z');
  expect(timeOfStamp('20260330-220000-3').toISOString()).toBe('2026-03-30T22:00:00.000Z');
});

test('MIN_RETENTION_DAYS: one number for every tenant, or per tenant with "*"; broken fails closed', () => {
  expect(parseRetentionLock(undefined)('a')).toBe(0);
  expect(parseRetentionLock('')('a')).toBe(0);
  expect(parseRetentionLock('14')('any')).toBe(14);
  const lock = parseRetentionLock('{"*": 7, "billing": 30, "scratch": 0}');
  expect([lock('billing'), lock('scratch'), lock('other')]).toEqual([30, 0, 7]);
  expect(parseRetentionLock('{"billing": 30}')('other')).toBe(0);
  for (const broken of ['soon', '-1', '1.5', '36501', '{"a": "7"}', '{"../a": 7}', '[7]', '{"a": 7']) {
    let message = '';
    try {
      parseRetentionLock(broken);
    } catch (error) {
      message = (error as Error).message;
    }
    expect([broken, message]).toEqual([
      broken,
      expect.stringMatching(/^Worker misconfigured: MIN_RETENTION_DAYS /),
    ]);
  }
});
