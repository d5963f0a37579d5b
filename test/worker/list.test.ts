// The list route: more than 1,000 records paged to the end, newest first, with cursors bound
// to their listing; plus the listing of every tenant and records without a summary.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { stampOf } from '../../common/naming.js';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { apiClient, readJson, s3Client, seedBackup, type Api } from './helpers.js';

let stack: LocalStack;
let api: Api;
const token = sharedStackToken();
const BUCKET = 'tenant-b-github-backup';
const TENANT = 'busy';

interface Made {
  backup_file: string;
  time: number;
  run: number;
}

/**
 * 1,060 archive names in every form the Worker accepts: with and without the tenant prefix,
 * and runs "-2" and "-10" in the same second, which do not sort by time as plain keys.
 */
function names(): Made[] {
  const made: Made[] = [];
  const base = Date.UTC(2025, 0, 1, 0, 0, 0);
  for (let i = 0; i < 1000; i++) {
    const time = base + i * 61_000;
    const stamp = stampOf(new Date(time));
    const prefix = i % 3 === 0 ? `${TENANT}-` : '';
    made.push({ backup_file: `${prefix}${stamp}.tar.gz`, time, run: 1 });
    if (i % 20 === 0) made.push({ backup_file: `${stamp}-2.tar.zst`, time, run: 2 });
    if (i % 100 === 0) made.push({ backup_file: `${prefix}${stamp}-10.tar`, time, run: 10 });
  }
  return made;
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const made = names();
const expected = [...made].sort((a, b) => b.time - a.time || b.run - a.run).map((m) => m.backup_file);

beforeAll(async () => {
  stack = await sharedStack();
  api = apiClient(stack, token);
  // Through the Worker, as the action does: bounded concurrency keeps two cores responsive.
  await inParallel(made, 8, async ({ backup_file }) => {
    const response = await api.post(
      '/api/github/backup',
      seedBackup({ tenant: TENANT, bucket: BUCKET, backup_file }),
    );
    if (response.status !== 201)
      throw new Error(`${backup_file}: ${response.status} ${await response.text()}`);
  });
}, 300_000);

async function pageThrough(limit: number | undefined): Promise<{ files: string[]; pages: number }> {
  const files: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const query = new URLSearchParams({ tenant: TENANT, bucket: BUCKET });
    if (limit !== undefined) query.set('limit', String(limit));
    if (cursor) query.set('cursor', cursor);
    const response = await api(`/api/github/backup/list?${query}`);
    expect(response.status).toBe(200);
    const body = await readJson(response);
    expect(body).toMatchObject({ success: true, tenant: TENANT, bucket: BUCKET });
    expect(body.count).toBe(body.backups.length);
    files.push(...body.backups.map((b: { backup_file: string }) => b.backup_file));
    cursor = body.cursor;
    pages++;
  } while (cursor);
  return { files, pages };
}

test(`${made.length} records page to the end newest first, no duplicates or gaps (default limit 100)`, async () => {
  expect(made.length).toBeGreaterThan(1000);
  const { files, pages } = await pageThrough(undefined);
  expect(pages).toBe(Math.ceil(made.length / 100));
  expect(files).toEqual(expected);
});

test('the same with limit 1000 and limit 7', async () => {
  expect((await pageThrough(1000)).files).toEqual(expected);
  const small = await pageThrough(7);
  expect(small.pages).toBe(Math.ceil(made.length / 7));
  expect(small.files).toEqual(expected);
});

test('each listed record is the full stored record', async () => {
  const body = await readJson(await api(`/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&limit=1`));
  const fetched = await readJson(
    await api(`/api/github/backup/${TENANT}/${body.backups[0].backup_file}?bucket=${BUCKET}`),
  );
  expect(body.backups[0]).toEqual(fetched.metadata);
  expect(Object.keys(body.backups[0])).toEqual(Object.keys(fetched.metadata));
});

test('a record added between pages shifts nothing', async () => {
  const first = await readJson(
    await api(`/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&limit=50`),
  );
  const newest = `${stampOf(new Date(Date.UTC(2030, 0, 1)))}.tar.gz`;
  expect(
    (
      await api.post(
        '/api/github/backup',
        seedBackup({ tenant: TENANT, bucket: BUCKET, backup_file: newest }),
      )
    ).status,
  ).toBe(201);
  const second = await readJson(
    await api(
      `/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&limit=50&cursor=${encodeURIComponent(first.cursor)}`,
    ),
  );
  expect(second.backups.map((b: { backup_file: string }) => b.backup_file)).toEqual(expected.slice(50, 100));
  const top = await readJson(await api(`/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&limit=1`));
  expect(top.backups[0].backup_file).toBe(newest);
});

describe('cursor and limit', () => {
  let cursor: string;
  beforeAll(async () => {
    cursor = (await readJson(await api(`/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&limit=1`)))
      .cursor;
    expect(typeof cursor).toBe('string');
  });
  test.each([
    ['another tenant', `tenant=other&bucket=${BUCKET}`, /another tenant or bucket/],
    ['another bucket', `tenant=${TENANT}&bucket=tenant-a-github-backup`, /another tenant or bucket/],
    ['every tenant', `bucket=${BUCKET}`, /another tenant or bucket/],
  ])('a cursor used for %s is 400', async (_what, query, rule) => {
    const response = await api(`/api/github/backup/list?${query}&cursor=${encodeURIComponent(cursor)}`);
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({
      success: false,
      field: 'cursor',
      error: expect.stringMatching(rule),
    });
  });
  test.each([
    ['tampered', () => cursor.replace(/^./, (c) => (c === 'e' ? 'f' : 'e'))],
    ['truncated', () => cursor.slice(0, -3)],
    ['garbage', () => 'not-a-cursor'],
  ])('a %s cursor is 400', async (_what, make) => {
    const response = await api(
      `/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&cursor=${encodeURIComponent(make())}`,
    );
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({ field: 'cursor' });
  });
  test.each(['0', '1001', 'ten', '-1', '1.5'])('limit=%s is 400', async (limit) => {
    const response = await api(`/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&limit=${limit}`);
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({
      field: 'limit',
      error: expect.stringContaining('1 to 1000'),
    });
  });
  test('bad tenant or bucket is 400; unbound bucket 404', async () => {
    expect((await api('/api/github/backup/list?tenant=..')).status).toBe(400);
    expect((await api('/api/github/backup/list?bucket=UP')).status).toBe(400);
    expect((await api('/api/github/backup/list?tenant=x&tenant=y')).status).toBe(400);
    expect((await api('/api/github/backup/list?bucket=not-bound-here')).status).toBe(404);
  });
});

describe('every tenant, the default bucket, records without a summary', () => {
  beforeAll(async () => {
    // Default bucket: autonomous-coding-agent.
    for (const [tenant, backup_file] of [
      ['alpha', '20250101-000000.tar.gz'],
      ['beta', '20250103-000000.tar.gz'],
      ['alpha', '20250102-000000.tar.gz'],
    ]) {
      const r = await api.post('/api/github/backup', seedBackup({ tenant, backup_file, bucket: undefined }));
      expect(r.status).toBe(201);
    }
  });

  test('tenant omitted lists all tenants newest first', async () => {
    const body = await readJson(await api('/api/github/backup/list'));
    expect(body).toMatchObject({ success: true, tenant: null, bucket: 'autonomous-coding-agent', count: 3 });
    expect(
      body.backups.map((b: { tenant: string; backup_file: string }) => `${b.tenant}/${b.backup_file}`),
    ).toEqual([
      'beta/20250103-000000.tar.gz',
      'alpha/20250102-000000.tar.gz',
      'alpha/20250101-000000.tar.gz',
    ]);
    expect(body.cursor).toBeUndefined();
  });

  test('a record too large for customMetadata is still listed, whole', async () => {
    const excludes = Array.from({ length: 40 }, (_, i) => `generated/${i}/${'x'.repeat(60)}`);
    const r = await api.post(
      '/api/github/backup',
      seedBackup({ tenant: 'gamma', bucket: undefined, backup_file: '20250104-000000.tar.gz', excludes }),
    );
    expect(r.status).toBe(201);
    const body = await readJson(await api('/api/github/backup/list?tenant=gamma'));
    expect(body.backups).toHaveLength(1);
    expect(body.backups[0].excludes).toEqual(excludes);
  });

  test('a record written by another S3 client (no summary) is listed from its body, unsigned', async () => {
    const record = {
      ...seedBackup({ tenant: 'delta', bucket: 'autonomous-coding-agent' }),
      backup_file: '20250105-000000.tar.gz',
    };
    await s3Client(stack).send(
      new PutObjectCommand({
        Bucket: 'autonomous-coding-agent',
        Key: 'backups/delta/metadata/20250105-000000.tar.gz.json',
        Body: JSON.stringify(record),
      }),
    );
    const body = await readJson(await api('/api/github/backup/list?tenant=delta'));
    // Its place, not its body, says whose it is; the Worker did not sign it.
    expect(body.backups).toEqual([
      { ...record, key: 'backups/delta/20250105-000000.tar.gz', verification: 'unsigned' },
    ]);
  });
});
