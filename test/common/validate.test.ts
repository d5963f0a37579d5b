// common/validate.ts: the shared rules, one function each.
import { parseUrl } from '../../action/inputs.js';
import {
  checkBackupFile,
  checkBranch,
  checkBucket,
  checkCommit,
  checkHttpUrl,
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
      encrypted: false,
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

// The one URL check refuses credentials without ever quoting them.
describe('checkHttpUrl: the one URL check', () => {
  test.each([
    'http://127.0.0.1:8787',
    'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com',
    'https://backup.example.workers.dev/',
    'https://host/path/with@sign',
    'https://host/?q=a@b',
    'https://host/#frag@ment',
  ])('%s is accepted', (url) => {
    expect(checkHttpUrl(url, 'api-url')).toBe(url);
  });

  const SECRET = 's3cr3t-P4ss';
  test.each([
    `https://user:${SECRET}@host`,
    `https://${SECRET}@host`,
    `https://:${SECRET}@host`,
    `HTTPS://USER:${SECRET}@HOST/api`,
    `http://user:${SECRET}@127.0.0.1:8787/`,
    `https:user:${SECRET}@host`,
    `https:\\\\user:${SECRET}@host`,
    `https://us\ter:${SECRET}@host`,
    `https://user:${SECRET.slice(0, 4)}\n${SECRET.slice(4)}@host`,
    `https://user:${encodeURIComponent(`${SECRET}@/`)}@host`,
    'https://@host',
  ])('%j is refused, naming the field and not quoting the value', (url) => {
    let message = '';
    try {
      checkHttpUrl(url, 'r2-endpoint');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid r2-endpoint: must not contain credentials/);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(SECRET.slice(0, 4));
  });

  test.each(['ftp://user:pw@host', 'javascript:alert(1)', 'not a url', 'https://', ''])(
    '%j is no http(s) URL',
    (url) => {
      expect(() => checkHttpUrl(url, 'api-url')).toThrow(/^Invalid api-url: must be an http\(s\) URL/);
    },
  );

  test('a URL longer than the limit is refused', () => {
    const long = `https://host/${'x'.repeat(2048)}`;
    expect(() => checkHttpUrl(long, 'api-url')).toThrow(/at most 2048 characters/);
    expect(() => checkHttpUrl('https://host/x', 'run_url', { maxLength: 10 })).toThrow(
      /^Invalid run_url: .* at most 10 /,
    );
  });

  test.each([
    ['https://keys.example.com/jwks', true],
    ['http://127.0.0.1:8788/jwks', true],
    ['http://localhost/jwks', true],
    ['http://[::1]:1/jwks', true],
    ['http://keys.example.com/jwks', false],
    ['http://127.0.0.1.example.com/jwks', false],
    ['http://localhost.example.com/jwks', false],
  ])('plainHttp loopback: %s accepted %s', (url, accepted) => {
    const check = (): string => checkHttpUrl(url, 'OIDC_JWKS_URL', { plainHttp: 'loopback' });
    if (accepted) expect(check()).toBe(url);
    else expect(check).toThrow(/^Invalid OIDC_JWKS_URL: must be an https URL \(http only on loopback\)/);
    // Anywhere else plain http is an http(s) URL like any other.
    expect(checkHttpUrl(url, 'api-url')).toBe(url);
  });

  test('plainHttp loopback still refuses credentials', () => {
    expect(() =>
      checkHttpUrl('https://u:p@keys.example.com/jwks', 'OIDC_JWKS_URL', { plainHttp: 'loopback' }),
    ).toThrow(/^Invalid OIDC_JWKS_URL: must not contain credentials/);
  });

  test('the action parses its URL inputs with it, dropping trailing slashes', () => {
    expect(parseUrl('api-url', 'https://host/base//')).toBe('https://host/base');
    expect(() => parseUrl('api-url', `https://u:${SECRET}@host`)).toThrow(
      /^Invalid api-url: must not contain credentials/,
    );
  });
});
