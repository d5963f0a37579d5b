import {
  checkBackupFile,
  checkBranch,
  checkBucket,
  checkCommit,
  checkTenant,
} from '../../common/validate.js';

describe('shared validation', () => {
  test.each(['my-repo', 'meauxbility.org', 'a', 'A_b-c.d', 'x'.repeat(100)])('tenant %s is accepted', (t) => {
    expect(checkTenant(t)).toBe(t);
  });
  test.each(['', '.hidden', 'a..b', 'a/b', 'x'.repeat(101), 'sp ace', 'ü'])('tenant %j is refused', (t) => {
    expect(() => checkTenant(t)).toThrow(/Invalid tenant/);
  });
  test.each(['autonomous-coding-agent', 'abc', 'my-bucket'])('bucket %s is accepted', (b) => {
    expect(checkBucket(b)).toBe(b);
  });
  test.each(['ab', 'My-Bucket', '-abc', 'abc-', 'a_b', 'x'.repeat(64)])('bucket %j is refused', (b) => {
    expect(() => checkBucket(b)).toThrow(/Invalid bucket/);
  });
  test('commit must be 40 or 64 hex', () => {
    expect(checkCommit('A'.repeat(40))).toBe('a'.repeat(40));
    expect(checkCommit('b'.repeat(64))).toBe('b'.repeat(64));
    expect(() => checkCommit('abc123...')).toThrow(/40 or 64/);
    expect(() => checkCommit('g'.repeat(40))).toThrow(/40 or 64/);
  });
  test.each(['main', 'feature/x-1', 'release/2025.01', 'dependabot/npm_and_yarn/foo-1.2'])(
    'branch %s',
    (b) => {
      expect(checkBranch(b)).toBe(b);
    },
  );
  test.each([
    '',
    'a..b',
    '/a',
    'a/',
    'a//b',
    'a.lock',
    '.a',
    'a/.b',
    'a b',
    'a~1',
    'a^',
    'a:b',
    '@',
    'a@{1',
    '-a',
    'a.',
  ])('branch %j is refused', (b) => {
    expect(() => checkBranch(b)).toThrow(/Invalid branch/);
  });
  test('backup_file follows the design naming, with or without the tenant in front', () => {
    expect(checkBackupFile('20250101-120000.tar.gz', 'my-repo')).toEqual({
      stamp: '20250101-120000',
      extension: '.tar.gz',
      compression: 'gzip',
    });
    expect(checkBackupFile('my-repo-20250101-120000.tar.gz', 'my-repo').stamp).toBe('20250101-120000');
    expect(checkBackupFile('20250101-120000-2.tar.zst', 't').compression).toBe('zstd');
    expect(checkBackupFile('20250101-120000.tar', 't').compression).toBe('none');
    for (const bad of [
      'other-20250101-120000.tar.gz',
      '20250101-1200.tar.gz',
      'x.zip',
      '../20250101-120000.tar.gz',
    ]) {
      expect(() => checkBackupFile(bad, 'my-repo')).toThrow(/Invalid backup_file/);
    }
  });
});
