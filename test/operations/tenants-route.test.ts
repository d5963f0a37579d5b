// The tenants routes, in workerd: the tenants of a bucket page by page (a signed cursor bound
// to that bucket), one tenant's summary (newest backup, bytes stored as S3 lists them, last
// status, ok / stale / failing), and tenant scoping: a tenant token sees only its own tenant.
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { storeBackup } from '../retention/helpers.js';
import { apiClient, aws, COMMIT, newToken, readJson, type Api } from '../worker/helpers.js';

const BUCKET = 'my-bucket';
const adminToken = newToken();
const tokenA = createTenantToken(['tenant-a'], [BUCKET]);
// "old" is stale a moment after its backup; the others only after two days.
const STALE_AFTER_HOURS = JSON.stringify({ '*': 48, old: 0.0005 });

let stack: LocalStack;
let admin: Api;
let tenantA: Api;

const notify = async (api: Api, tenant: string, status: string): Promise<void> => {
  const response = await api.post('/api/github/backup/notify', {
    tenant,
    bucket: BUCKET,
    repo: `acme/${tenant}`,
    branch: 'main',
    commit: COMMIT,
    status,
  });
  expect(response.status).toBe(201);
};

const summary = (api: Api, tenant: string, bucket = BUCKET) =>
  api(`/api/github/backup/tenants/${tenant}/summary?bucket=${bucket}`);

async function storedBytes(prefix: string): Promise<number> {
  const listed = JSON.parse(
    await aws(stack, 's3api', 'list-objects-v2', '--bucket', BUCKET, '--prefix', prefix, '--output', 'json'),
  ) as { Contents?: { Key: string; Size: number }[] };
  // Archives and their siblings, not records or notifications.
  return (listed.Contents ?? [])
    .filter((o) => !o.Key.slice(prefix.length).includes('/'))
    .reduce((sum, o) => sum + o.Size, 0);
}

beforeAll(async () => {
  stack = await startLocalStack({
    env: 'test',
    vars: {
      CLOUDCONNECT: adminToken,
      TENANT_TOKENS: `{${tokenA.configEntry}}`,
      STALE_AFTER_HOURS,
      FAILING_AFTER: '2',
    },
  });
  admin = apiClient(stack, adminToken);
  tenantA = apiClient(stack, tokenA.token);
  await storeBackup(admin, { tenant: 'tenant-a', bucket: BUCKET, backupFile: '20260101-120000.tar.gz' });
  await storeBackup(admin, { tenant: 'tenant-a', bucket: BUCKET, backupFile: '20260102-120000.tar.zst' });
  await storeBackup(admin, { tenant: 'tenant-b', bucket: BUCKET, backupFile: '20260101-120000.tar.gz' });
  await notify(admin, 'tenant-b', 'failure');
  await notify(admin, 'tenant-b', 'failure');
  await storeBackup(admin, { tenant: 'old', bucket: BUCKET, backupFile: '20260101-120000.tar' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

test('the admin pages through every tenant of a bucket, one tenant a page', async () => {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const response = await admin(
      `/api/github/backup/tenants?bucket=${BUCKET}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
    );
    const body = await readJson(response);
    expect(response.status).toBe(200);
    expect(body.count).toBe(body.tenants.length);
    seen.push(...body.tenants.map((t: { tenant: string }) => t.tenant));
    cursor = body.cursor;
    pages++;
  } while (cursor && pages < 10);
  expect(seen.sort()).toEqual(['old', 'tenant-a', 'tenant-b']);

  const whole = await readJson(await admin(`/api/github/backup/tenants?bucket=${BUCKET}`));
  expect(whole.tenants.map((t: { tenant: string }) => t.tenant).sort()).toEqual(seen);
  expect(whole.cursor).toBeUndefined();
  // Each entry says where its summary is, and that address answers.
  const entry = whole.tenants.find((t: { tenant: string }) => t.tenant === 'tenant-a');
  expect((await admin(entry.summary)).status).toBe(200);
});

test("a cursor of one bucket's list is refused for another", async () => {
  const first = await readJson(await admin(`/api/github/backup/tenants?bucket=${BUCKET}&limit=1`));
  expect(first.cursor).toEqual(expect.any(String));
  const response = await admin(
    `/api/github/backup/tenants?bucket=tenant-a-github-backup&cursor=${first.cursor}`,
  );
  expect(response.status).toBe(400);
  expect(await readJson(response)).toMatchObject({ field: 'cursor' });
  const forged = await admin(`/api/github/backup/tenants?bucket=${BUCKET}&cursor=${first.cursor}x`);
  expect(forged.status).toBe(400);
});

test('a bad limit is refused naming it', async () => {
  const response = await admin(`/api/github/backup/tenants?bucket=${BUCKET}&limit=0`);
  expect(response.status).toBe(400);
  expect(await readJson(response)).toMatchObject({ field: 'limit' });
});

test('a tenant token lists only its tenant, in its own bucket without naming it', async () => {
  const response = await tenantA('/api/github/backup/tenants');
  const body = await readJson(response);
  expect(response.status).toBe(200);
  expect(body.bucket).toBe(BUCKET);
  expect(body.tenants.map((t: { tenant: string }) => t.tenant)).toEqual(['tenant-a']);
  const other = await tenantA('/api/github/backup/tenants?bucket=tenant-b-github-backup');
  expect(other.status).toBe(403);
  const noToken = await apiClient(stack, null)('/api/github/backup/tenants');
  expect(noToken.status).toBe(401);
});

test("a tenant's summary: newest backup, bytes stored as S3 lists them, cost, state ok", async () => {
  const response = await summary(tenantA, 'tenant-a');
  const body = await readJson(response);
  expect(response.status).toBe(200);
  const bytes = await storedBytes('backups/tenant-a/');
  expect(bytes).toBeGreaterThan(0);
  expect(body).toMatchObject({
    success: true,
    tenant: 'tenant-a',
    bucket: BUCKET,
    state: 'ok',
    stale_after_hours: 48,
    backups: 2,
    bytes_stored: bytes,
    monthly_storage_cost_usd: Math.round((bytes / 1e9) * 0.015 * 1e6) / 1e6,
    recent_failures: 0,
    notifications: 2,
    last_status: { status: 'success' },
  });
  expect(body.newest).toMatchObject({
    backup_file: '20260102-120000.tar.zst',
    branch: 'main',
    commit: COMMIT,
    size: Buffer.byteLength('archive of tenant-a/20260102-120000.tar.zst'),
    bundle: false,
    verification: 'verified',
  });
  expect(body.newest.age_hours).toBeGreaterThanOrEqual(0);
  expect(body.newest.age_hours).toBeLessThan(1);
});

test('a tenant whose last FAILING_AFTER notifications are failures is failing', async () => {
  const body = await readJson(await summary(admin, 'tenant-b'));
  expect(body).toMatchObject({ state: 'failing', recent_failures: 2, last_status: { status: 'failure' } });
  // One success after them ends it.
  await notify(admin, 'tenant-b', 'success');
  const after = await readJson(await summary(admin, 'tenant-b'));
  expect(after).toMatchObject({ state: 'ok', recent_failures: 0, last_status: { status: 'success' } });
});

test('a tenant without a backup for its STALE_AFTER_HOURS is stale', async () => {
  await new Promise((r) => setTimeout(r, 2500)); // 0.0005 hours is 1.8 s
  const body = await readJson(await summary(admin, 'old'));
  expect(body).toMatchObject({ state: 'stale', stale_after_hours: 0.0005 });
  expect(body.newest.age_hours).toBeGreaterThan(0.0005);
});

test("a tenant's notifications, newest first, with a limit", async () => {
  const response = await tenantA(`/api/github/backup/tenants/tenant-a/notifications?limit=1`);
  const body = await readJson(response);
  expect(response.status).toBe(200);
  expect(body.notifications).toEqual([
    expect.objectContaining({ status: 'success', kind: 'run', backup_file: '20260102-120000.tar.zst' }),
  ]);
  const all = await readJson(
    await admin(`/api/github/backup/tenants/tenant-b/notifications?bucket=${BUCKET}`),
  );
  expect(all.notifications.map((n: { status: string }) => n.status)).toEqual([
    'success',
    'failure',
    'failure',
    'success',
  ]);
  expect((await tenantA('/api/github/backup/tenants/tenant-b/notifications')).status).toBe(403);
  const bad = await admin(`/api/github/backup/tenants/tenant-a/notifications?bucket=${BUCKET}&limit=101`);
  expect(bad.status).toBe(400);
  expect(await readJson(bad)).toMatchObject({ field: 'limit' });
});

test("a tenant token may not read another tenant's summary", async () => {
  const response = await summary(tenantA, 'tenant-b');
  expect(response.status).toBe(403);
  expect(await readJson(response)).toMatchObject({ reason: expect.stringContaining('tenant tenant-b') });
});
