// The inventory route, in workerd: what `verify` checks without downloading. A deleted
// archive, an orphan archive and a size mismatch are each reported; sizes and etags agree with
// what awscli lists; the route is not mistaken for a backup file; tenant isolation.
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { apiClient, aws, newToken, readJson, type Api } from '../worker/helpers.js';
import { plant, storeBackup } from './helpers.js';

const BUCKET = 'my-bucket';
const adminToken = newToken();
const tokenA = createTenantToken(['tenant-a'], [BUCKET]);

let stack: LocalStack;
let admin: Api;

const inventory = (api: Api, tenant: string, bucket = BUCKET) =>
  api(`/api/github/backup/${tenant}/inventory?bucket=${bucket}`);

beforeAll(async () => {
  stack = await startLocalStack({
    env: 'test',
    vars: { CLOUDCONNECT: adminToken, TENANT_TOKENS: `{${tokenA.configEntry}}` },
  });
  admin = apiClient(stack, adminToken);
  const inv = { tenant: 'inv', bucket: BUCKET };
  await storeBackup(admin, { ...inv, backupFile: '20260101-120000.tar.gz' }); // intact
  await storeBackup(admin, { ...inv, backupFile: '20260102-120000.tar.zst', size: 999 }); // wrong size
  await storeBackup(admin, { ...inv, backupFile: '20260103-120000.tar', archive: null }); // never uploaded
  await storeBackup(admin, { ...inv, backupFile: '20260104-120000.tar.gz' }); // archive deleted below
  await aws(stack, 's3', 'rm', `s3://${BUCKET}/backups/inv/20260104-120000.tar.gz`);
  await plant(stack, BUCKET, 'backups/inv/20251231-120000.tar.gz', 'orphan archive'); // no record
  await plant(stack, BUCKET, 'backups/inv/20260101-120000.bundle', 'not an archive');
  await storeBackup(admin, { tenant: 'tenant-b', bucket: BUCKET, backupFile: '20260101-120000.tar.gz' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

test('reports archives, records, missing archives, orphans and size mismatches', async () => {
  const response = await inventory(admin, 'inv');
  const body = await readJson(response);
  expect(response.status).toBe(200);
  expect(body).toMatchObject({ success: true, tenant: 'inv', bucket: BUCKET });
  // Every record here was stored through the Worker, so each is signed.
  const verification = 'verified';
  expect(body.records).toEqual([
    {
      backup_file: '20260104-120000.tar.gz',
      verification,
      size: Buffer.byteLength('archive of inv/20260104-120000.tar.gz'),
    },
    { backup_file: '20260103-120000.tar', verification },
    { backup_file: '20260102-120000.tar.zst', verification, size: 999 },
    {
      backup_file: '20260101-120000.tar.gz',
      verification,
      size: Buffer.byteLength('archive of inv/20260101-120000.tar.gz'),
    },
  ]);
  expect(body.missing_archives).toEqual(['20260104-120000.tar.gz', '20260103-120000.tar']);
  expect(body.orphan_archives).toEqual(['20251231-120000.tar.gz']);
  const storedSize = Buffer.byteLength('archive of inv/20260102-120000.tar.zst');
  expect(body.size_mismatches).toEqual([
    { backup_file: '20260102-120000.tar.zst', recorded: 999, stored: storedSize },
  ]);

  // The archives as an independent client lists them: same keys, sizes and etags.
  const listed = JSON.parse(
    await aws(
      stack,
      's3api',
      'list-objects-v2',
      '--bucket',
      BUCKET,
      '--prefix',
      'backups/inv/',
      '--output',
      'json',
    ),
  ) as { Contents: { Key: string; Size: number; ETag: string }[] };
  const archives = listed.Contents.filter((o) => /^backups\/inv\/[^/]+\.tar(\.gz|\.zst)?$/.test(o.Key));
  expect(
    body.archives.map((a: Record<string, unknown>) => ({ key: a.key, size: a.size, etag: `"${a.etag}"` })),
  ).toEqual(expect.arrayContaining(archives.map((o) => ({ key: o.Key, size: o.Size, etag: o.ETag }))));
  expect(body.archives.map((a: { backup_file: string }) => a.backup_file)).toEqual([
    '20260102-120000.tar.zst',
    '20260101-120000.tar.gz',
    '20251231-120000.tar.gz',
  ]);
  for (const archive of body.archives) expect(Date.parse(archive.uploaded)).not.toBeNaN();
});

test("a tenant with nothing stored has an empty inventory, and one tenant never sees another's", async () => {
  const empty = await readJson(await inventory(admin, 'nobody'));
  expect(empty).toMatchObject({ archives: [], records: [], missing_archives: [], orphan_archives: [] });
  const a = await readJson(await inventory(apiClient(stack, tokenA.token), 'tenant-a'));
  expect(a.records).toEqual([]);
});

test("a tenant token cannot read another tenant's inventory", async () => {
  const response = await inventory(apiClient(stack, tokenA.token), 'tenant-b');
  const body = await readJson(response);
  expect({ status: response.status, error: body.error }).toEqual({ status: 403, error: 'Forbidden' });
  expect(JSON.stringify(body)).not.toContain('20260101-120000');
});

test('bad tenant is 400, an unbound bucket 404, other methods 405', async () => {
  const bad = await inventory(admin, '.hidden');
  expect([bad.status, (await readJson(bad)).field]).toEqual([400, 'tenant']);
  expect((await inventory(admin, 'inv', 'no-such-bucket')).status).toBe(404);
  const post = await admin('/api/github/backup/inv/inventory', { method: 'POST' });
  expect(post.status).toBe(405);
  // A backup file route next to it still answers as before.
  const record = await admin(`/api/github/backup/inv/20260101-120000.tar.gz?bucket=${BUCKET}`);
  expect((await readJson(record)).metadata.backup_file).toBe('20260101-120000.tar.gz');
});
