// Every metadata/notification/record route of the Worker, in workerd, with the records read
// back by awscli at the seed's keys.
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { apiClient, aws, COMMIT, readJson, seedBackup, seedNotification, type Api } from './helpers.js';

let stack: LocalStack;
let api: Api;
const token = sharedStackToken();

beforeAll(async () => {
  stack = await sharedStack();
  api = apiClient(stack, token);
});

describe('POST /api/github/backup', () => {
  test("stores the seed's example body at the seed's key and never overwrites it", async () => {
    const response = await api.post('/api/github/backup', seedBackup());
    expect(response.status).toBe(201);
    const body = await readJson(response);
    expect(body).toMatchObject({
      success: true,
      message: 'Backup metadata stored',
      upload_url: '/api/r2/buckets/my-bucket/upload?key=backups%2Fmy-repo%2Fmy-repo-20250101-120000.tar.gz',
    });
    expect(body.metadata).toMatchObject({
      ...seedBackup(),
      key: 'backups/my-repo/my-repo-20250101-120000.tar.gz',
      principal: 'admin',
    });
    expect(Date.parse(body.metadata.stored_at)).toBeGreaterThan(Date.now() - 60_000);

    const stored = await aws(
      stack,
      's3',
      'cp',
      's3://my-bucket/backups/my-repo/metadata/my-repo-20250101-120000.tar.gz.json',
      '-',
    );
    // Stored as answered, signed; whether it verifies is said when it is read, never stored.
    const { verification, ...answered } = body.metadata as Record<string, unknown>;
    expect(verification).toBe('verified');
    expect(answered.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(stored)).toEqual(answered);

    const again = await api.post('/api/github/backup', seedBackup({ repo: 'other/repo' }));
    expect(again.status).toBe(409);
    expect(await readJson(again)).toMatchObject({
      success: false,
      error: expect.stringMatching(/already exists.*never overwritten/),
    });
    const unchanged = await aws(
      stack,
      's3',
      'cp',
      's3://my-bucket/backups/my-repo/metadata/my-repo-20250101-120000.tar.gz.json',
      '-',
    );
    expect(JSON.parse(unchanged).repo).toBe('owner/repo');
  });

  test('stores the optional fields of design.md and uses the default bucket when none is named', async () => {
    const full = {
      ...seedBackup({ bucket: undefined, backup_file: '20250102-000000.tar.zst' }),
      key: 'backups/my-repo/20250102-000000.tar.zst',
      size: 1234,
      sha256: 'a'.repeat(64),
      compression: 'zstd',
      file_count: 12,
      excludes: ['.git', 'node_modules'],
      created_at: '2025-01-02T00:00:00Z',
      event: 'push',
      actor: 'github-actions[bot]',
      run_id: '123456789',
      run_url: 'https://github.com/owner/repo/actions/runs/123456789',
      duration_ms: 5000,
      action_version: '1.0.0',
    };
    const response = await api.post('/api/github/backup', full);
    expect(response.status).toBe(201);
    const { metadata, upload_url } = await readJson(response);
    expect(metadata).toMatchObject({ ...full, bucket: 'autonomous-coding-agent' });
    expect(upload_url).toMatch(/^\/api\/r2\/buckets\/autonomous-coding-agent\/upload\?key=/);
    const listing = await aws(stack, 's3', 'ls', 's3://autonomous-coding-agent/backups/my-repo/metadata/');
    expect(listing).toContain('20250102-000000.tar.zst.json');
  });

  test('an unbound bucket is 404 Bucket not found', async () => {
    const response = await api.post('/api/github/backup', seedBackup({ bucket: 'not-bound-here' }));
    expect(response.status).toBe(404);
    expect(await readJson(response)).toMatchObject({ success: false, error: 'Bucket not found' });
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['tenant', { tenant: '.hidden' }, 'tenant'],
    ['tenant', { tenant: 'a..b' }, 'tenant'],
    ['tenant', { tenant: 'a/b' }, 'tenant'],
    ['tenant', { tenant: 'x'.repeat(101) }, 'tenant'],
    ['tenant', { tenant: undefined }, 'tenant'],
    ['bucket', { bucket: 'My_Bucket' }, 'bucket'],
    ['bucket', { bucket: 'ab' }, 'bucket'],
    ['repo', { repo: 'no-slash' }, 'repo'],
    ['branch', { branch: 'a..b' }, 'branch'],
    ['branch', { branch: 'x.lock' }, 'branch'],
    ['branch', { branch: 'has space' }, 'branch'],
    ['commit', { commit: 'abc123...' }, 'commit'],
    ['commit', { commit: 'g'.repeat(40) }, 'commit'],
    ['backup_file', { backup_file: '../x.tar.gz' }, 'backup_file'],
    ['backup_file', { backup_file: 'other-20250101-120000.tar.gz' }, 'backup_file'],
    ['backup_file', { backup_file: '20250101-120000.zip' }, 'backup_file'],
    ['action', { action: 'Upload!' }, 'action'],
    ['action', { action: 42 }, 'action'],
    ['key', { key: 'backups/other/x.tar.gz' }, 'key'],
    ['size', { size: -1 }, 'size'],
    ['size', { size: 1.5 }, 'size'],
    ['sha256', { sha256: 'A'.repeat(64) }, 'sha256'],
    ['compression', { compression: 'bzip2' }, 'compression'],
    ['compression', { compression: 'zstd' }, 'compression'],
    ['file_count', { file_count: '3' }, 'file_count'],
    ['excludes', { excludes: 'node_modules' }, 'excludes'],
    ['excludes', { excludes: [''] }, 'excludes'],
    ['created_at', { created_at: 'yesterday' }, 'created_at'],
    ['event', { event: 'Push' }, 'event'],
    ['actor', { actor: 'a b' }, 'actor'],
    ['run_id', { run_id: 'x/y' }, 'run_id'],
    ['run_url', { run_url: 'javascript:alert(1)' }, 'run_url'],
    ['duration_ms', { duration_ms: -5 }, 'duration_ms'],
    ['action_version', { action_version: 'v 1' }, 'action_version'],
    ['an unknown field', { tenat: 'typo' }, 'tenat'],
  ];
  test.each(invalid)('refuses a bad %s with 400 naming the field (%j)', async (_rule, overrides, field) => {
    const response = await api.post(
      '/api/github/backup',
      seedBackup({ backup_file: '20250301-000000.tar.gz', ...overrides }),
    );
    expect(response.status).toBe(400);
    const body = await readJson(response);
    expect(body).toMatchObject({ success: false, field });
    expect(body.error).toContain(field);
  });

  test('nothing was written by the refused requests', async () => {
    const listing = await aws(stack, 's3', 'ls', '--recursive', 's3://my-bucket/backups/');
    expect(listing).not.toContain('20250301-000000');
  });

  test('bodies: invalid JSON and non-objects are 400, more than 64 KiB is 413', async () => {
    const bad = await api('/api/github/backup', { method: 'POST', body: '{"tenant":' });
    expect(bad.status).toBe(400);
    expect(await readJson(bad)).toMatchObject({ field: 'body', error: expect.stringContaining('JSON') });
    const array = await api('/api/github/backup', { method: 'POST', json: [seedBackup()] });
    expect(array.status).toBe(400);
    const large = await api('/api/github/backup', {
      method: 'POST',
      json: seedBackup({ padding: 'x'.repeat(64 * 1024) }),
    });
    expect(large.status).toBe(413);
    expect(await readJson(large)).toMatchObject({
      success: false,
      error: expect.stringContaining('too large'),
    });
    // The same without Content-Length (a chunked stream) is counted as it arrives.
    const bytes = new TextEncoder().encode(JSON.stringify(seedBackup({ padding: 'x'.repeat(70 * 1024) })));
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const chunked = await api('/api/github/backup', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });
});

describe('POST /api/github/backup/notify', () => {
  test("stores the seed's example under the current stamp, twice without collision", async () => {
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const response = await api.post('/api/github/backup/notify', seedNotification());
      expect(response.status).toBe(201);
      const body = await readJson(response);
      expect(body).toMatchObject({
        success: true,
        message: 'Notification stored',
        notification: { ...seedNotification(), principal: 'admin' },
        webhook: 'skipped',
      });
      expect(body.key).toMatch(/^backups\/my-repo\/notifications\/\d{8}-\d{6}-[0-9a-f]{8}\.json$/);
      keys.push(body.key);
      const stored = await aws(stack, 's3', 'cp', `s3://my-bucket/${body.key}`, '-');
      expect(JSON.parse(stored)).toEqual(body.notification);
    }
    expect(keys[0]).not.toBe(keys[1]);
  });

  test("is named by the backup's file name when backup_file is given", async () => {
    const response = await api.post(
      '/api/github/backup/notify',
      seedNotification({
        status: 'failure',
        backup_file: 'my-repo-20250101-120000-2.tar.gz',
        message: 'tar failed',
      }),
    );
    expect(response.status).toBe(201);
    expect((await readJson(response)).key).toMatch(
      /^backups\/my-repo\/notifications\/my-repo-20250101-120000-2\.tar\.gz\.[0-9a-f]{8}\.json$/,
    );
  });

  test.each([
    ['status', { status: 'done' }],
    ['status', { status: undefined }],
    ['backup_file', { backup_file: 'x.tar.gz' }],
    ['message', { message: 'x'.repeat(2001) }],
    ['run_url', { run_url: 'ftp://x' }],
    ['commit', { commit: COMMIT.slice(1) }],
    ['tenant', { tenant: '..' }],
  ])('refuses a bad %s with 400', async (field, overrides) => {
    const response = await api.post('/api/github/backup/notify', seedNotification(overrides));
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({ success: false, field });
  });
});

describe('GET one record', () => {
  beforeAll(async () => {
    for (const backup_file of [
      '20250201-000000.tar.gz',
      '20250201-000000-2.tar.gz',
      '20250131-235959.tar.gz',
    ]) {
      const r = await api.post(
        '/api/github/backup',
        seedBackup({ tenant: 'one', backup_file, bucket: 'tenant-a-github-backup' }),
      );
      expect(r.status).toBe(201);
    }
  });

  test('by name', async () => {
    const response = await api('/api/github/backup/one/20250201-000000.tar.gz?bucket=tenant-a-github-backup');
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body).toMatchObject({
      success: true,
      metadata: { tenant: 'one', backup_file: '20250201-000000.tar.gz' },
    });
  });

  test('latest is the newest run, "-2" after the plain name of the same second', async () => {
    const response = await api('/api/github/backup/one/latest?bucket=tenant-a-github-backup');
    expect(response.status).toBe(200);
    expect((await readJson(response)).metadata.backup_file).toBe('20250201-000000-2.tar.gz');
  });

  test('404 for a missing record or a tenant without backups; 400 for bad names', async () => {
    const missing = await api('/api/github/backup/one/20990101-000000.tar.gz?bucket=tenant-a-github-backup');
    expect(missing.status).toBe(404);
    expect(await readJson(missing)).toMatchObject({
      success: false,
      error: expect.stringContaining('not found'),
    });
    const none = await api('/api/github/backup/nobody/latest?bucket=tenant-a-github-backup');
    expect(none.status).toBe(404);
    expect((await api('/api/github/backup/one/notes.txt?bucket=tenant-a-github-backup')).status).toBe(400);
    expect((await api('/api/github/backup/.x/latest')).status).toBe(400);
    expect((await api('/api/github/backup/one/latest?bucket=not-bound-here')).status).toBe(404);
  });
});

describe('auth', () => {
  const routes: [string, string, unknown?][] = [
    ['POST', '/api/github/backup', seedBackup()],
    ['POST', '/api/github/backup/notify', seedNotification()],
    ['GET', '/api/github/backup/list?tenant=my-repo&bucket=my-bucket'],
    ['GET', '/api/github/backup/my-repo/latest?bucket=my-bucket'],
    ['GET', '/api/github/backup/my-repo/my-repo-20250101-120000.tar.gz?bucket=my-bucket'],
    ['PUT', '/api/r2/buckets/my-bucket/upload?key=backups%2Fmy-repo%2F20250101-000000.tar.gz', 'data'],
    ['GET', '/api/r2/buckets/my-bucket/download?key=backups%2Fmy-repo%2Fmy-repo-20250101-120000.tar.gz'],
  ];
  const credentials: [string, string | undefined][] = [
    ['missing', undefined],
    ['wrong', `Bearer ${token}x`],
    ['a prefix of the token', `Bearer ${token.slice(0, 10)}`],
    ['another scheme', `Basic ${token}`],
    ['empty bearer', 'Bearer '],
  ];
  test.each(
    routes.flatMap(([method, path, body]) =>
      credentials.map(([what, header]) => [method, path, what, header, body]),
    ),
  )('%s %s with %s credentials is 401', async (method, path, _what, header, body) => {
    const headers: Record<string, string> = header === undefined ? {} : { authorization: header as string };
    const response = await fetch(`${stack.url}${path}`, {
      method: method as string,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    expect(response.status).toBe(401);
    expect(await readJson(response)).toEqual({ success: false, error: 'Unauthorized' });
  });
});

describe('routing', () => {
  test('unknown routes are 404 JSON', async () => {
    // `/` is the dashboard since issue 20 (test/operations/dashboard.test.ts).
    for (const path of ['/api/nope', '/api/github/backup/a/b/c']) {
      const response = await api(path);
      expect(response.status).toBe(404);
      expect(await readJson(response)).toEqual({ success: false, error: 'Not found' });
    }
  });

  test.each([
    ['DELETE', '/api/health', 'GET'],
    ['GET', '/api/github/backup', 'POST'],
    ['GET', '/api/github/backup/notify', 'POST'],
    ['POST', '/api/github/backup/list', 'GET'],
    ['DELETE', '/api/github/backup/my-repo/latest', 'GET'],
    ['GET', '/api/r2/buckets/my-bucket/upload', 'PUT, POST, DELETE'],
    ['PUT', '/api/r2/buckets/my-bucket/download', 'GET'],
  ])('%s %s is 405 allowing %s', async (method, path, allow) => {
    const response = await api(path, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(await readJson(response)).toMatchObject({ success: false });
  });
});
