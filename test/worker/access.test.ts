// Pure logic of the Worker: who may touch what, and the list summary's size budget.
import { authorize, type Principal } from '../../worker/src/access.js';
import { HttpError } from '../../worker/src/http.js';
import { SUMMARY_BUDGET, recordFromSummary, summaryOf } from '../../worker/src/record-summary.js';
import type { BackupMetadata } from '../../common/metadata.js';

const admin: Principal = { name: 'admin', tenants: '*', buckets: '*' };
const scoped: Principal = { name: 'tenant-a', tenants: ['a'], buckets: ['tenant-a-github-backup'] };

function refusal(fn: () => void): { status: number; message: string; reason: unknown } | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, message: error.message, reason: error.extra.reason };
  }
}

describe('authorize', () => {
  test('admin may touch every tenant and bucket, and list all tenants', () => {
    expect(refusal(() => authorize(admin, 'any', 'any-bucket'))).toBeNull();
    expect(refusal(() => authorize(admin, null, 'any-bucket'))).toBeNull();
  });
  test('a scoped principal only its own tenant in its own bucket', () => {
    expect(refusal(() => authorize(scoped, 'a', 'tenant-a-github-backup'))).toBeNull();
    expect(refusal(() => authorize(scoped, 'b', 'tenant-a-github-backup'))).toMatchObject({
      status: 403,
      message: 'Forbidden',
      reason: expect.stringContaining('tenant b'),
    });
    expect(refusal(() => authorize(scoped, 'a', 'other-bucket'))).toMatchObject({
      status: 403,
      reason: expect.stringContaining('bucket other-bucket'),
    });
    expect(refusal(() => authorize(scoped, null, 'tenant-a-github-backup'))).toMatchObject({
      status: 403,
      reason: expect.stringContaining('every tenant'),
    });
  });
});

describe('list summary', () => {
  const longest: BackupMetadata = {
    tenant: 't'.repeat(100),
    bucket: 'b'.repeat(63),
    repo: `${'o'.repeat(100)}/${'r'.repeat(100)}`,
    branch: 'x'.repeat(255),
    commit: 'c'.repeat(64),
    backup_file: `${'t'.repeat(100)}-20250101-120000-9999.tar.zst`,
    action: 'a'.repeat(32),
    key: 'k',
    size: Number.MAX_SAFE_INTEGER,
    sha256: 'f'.repeat(64),
    compression: 'zstd',
    file_count: Number.MAX_SAFE_INTEGER,
    created_at: '2025-01-01T12:00:00.123456789+01:00',
    event: 'e'.repeat(64),
    actor: 'u'.repeat(100),
    run_id: '9'.repeat(64),
    run_url: `https://example.com/${'p'.repeat(490)}`,
    duration_ms: Number.MAX_SAFE_INTEGER,
    action_version: 'v'.repeat(64),
    stored_at: '2025-01-01T12:00:00.000Z',
    principal: 'admin',
  };

  test('the longest valid record without excludes fits the budget', () => {
    const summary = summaryOf(longest);
    expect(Object.keys(summary)).toHaveLength(1);
    const size = Object.entries(summary).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(size).toBeLessThanOrEqual(SUMMARY_BUDGET);
    const back = recordFromSummary(summary, {
      tenant: longest.tenant,
      bucket: longest.bucket,
      backupFile: longest.backup_file,
    });
    expect(back).toEqual({ ...longest, key: `backups/${longest.tenant}/${longest.backup_file}` });
  });

  test('a record over the budget gets no summary (the listing reads it instead)', () => {
    expect(summaryOf({ ...longest, excludes: ['x'.repeat(256), 'y'.repeat(256)] })).toEqual({});
    // Characters beyond Latin-1 count double in the local simulator.
    expect(summaryOf({ ...longest, branch: 'ł'.repeat(255) })).toEqual({});
  });
});
