// Tenant isolation route by route, in workerd: tenant A's scoped token (made by createTenantToken)
// and A's GitHub OIDC identity against tenant B's data on every route are refused (403) with
// nothing written (awscli listings compared) or revealed (B's markers never in an answer);
// A on A's data works and is recorded under A's principal; the admin token reaches everything.
import { randomBytes } from 'node:crypto';
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { apiClient, aws, COMMIT, newToken, readJson, type Api } from '../worker/helpers.js';
import { AUDIENCE, startIssuer, type LocalIssuer } from './issuer.js';

const A_BUCKET = 'tenant-a-github-backup';
const B_BUCKET = 'tenant-b-github-backup';
const DEFAULT_BUCKET = 'autonomous-coding-agent';
const B_FILE = '20250101-120000.tar.gz';
const B_OTHER_FILE = '20250101-130000.tar.gz';
const B_FILE_IN_A = '20250102-120000.tar.gz';
const B_MPU_KEY = 'backups/tenant-b/20250103-120000.tar.gz';
// What must never appear in an answer to tenant A: B's record and archive contents.
const B_SHA256 = randomBytes(32).toString('hex');
const B_ACTOR = `secret-actor-${randomBytes(6).toString('hex')}`;
const B_ARCHIVE = `tenant-b-archive-${randomBytes(12).toString('hex')}`;

const adminToken = newToken();
const tokenA = createTenantToken(['tenant-a']);
const tokenB = createTenantToken(['tenant-b']);
const tokenC = createTenantToken(['tenant-c'], ['my-bucket']);

let stack: LocalStack;
let issuer: LocalIssuer;
let admin: Api;
const bucketSnapshots = new Map<string, string>();
let bUploadId: string;
let bCursor: string;
let allTenantsCursor: string;

const record = (tenant: string, backupFile: string, extra: Record<string, unknown> = {}) => ({
  tenant,
  repo: `acme/${tenant}`,
  branch: 'main',
  commit: COMMIT,
  backup_file: backupFile,
  action: 'upload',
  ...extra,
});
const notification = (tenant: string, extra: Record<string, unknown> = {}) => ({
  tenant,
  repo: `acme/${tenant}`,
  branch: 'main',
  commit: COMMIT,
  status: 'success',
  ...extra,
});
const upload = (bucket: string, key: string, query = '') =>
  `/api/r2/buckets/${bucket}/upload?key=${encodeURIComponent(key)}${query}`;
const download = (bucket: string, key: string) =>
  `/api/r2/buckets/${bucket}/download?key=${encodeURIComponent(key)}`;
const put = (body: string) => ({ method: 'PUT', body, headers: { 'content-type': 'application/gzip' } });

async function expectCreated(response: Response): Promise<Record<string, unknown>> {
  const body = await readJson(response);
  expect({ status: response.status, body }).toMatchObject({ status: 201, body: { success: true } });
  return body;
}

const listing = async (bucket: string): Promise<string> =>
  (await aws(stack, 's3', 'ls', '--recursive', `s3://${bucket}/`))
    .split('\n')
    .map((line) => line.replace(/^\S+ \S+\s+/, '')) // drop the date column, keep size and key
    .sort()
    .join('\n');

beforeAll(async () => {
  issuer = await startIssuer();
  stack = await startLocalStack({
    env: 'test',
    vars: {
      CLOUDCONNECT: adminToken,
      TENANT_TOKENS: `{${[tokenA, tokenB, tokenC].map((t) => t.configEntry).join(',')}}`,
      OIDC_ISSUER: issuer.issuer,
      OIDC_JWKS_URL: issuer.jwksUrl,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_POLICY: JSON.stringify({ owners: ['acme'] }),
    },
  });
  admin = apiClient(stack, adminToken);

  // Tenant B's data, written by the admin: two records, an archive and a notification in B's
  // bucket, a record and archive of tenant B in A's bucket, and a multipart upload in progress.
  const secret = { sha256: B_SHA256, actor: B_ACTOR };
  await expectCreated(
    await admin.post('/api/github/backup', record('tenant-b', B_FILE, { bucket: B_BUCKET, ...secret })),
  );
  await expectCreated(
    await admin.post('/api/github/backup', record('tenant-b', B_OTHER_FILE, { bucket: B_BUCKET, ...secret })),
  );
  await expectCreated(await admin(upload(B_BUCKET, `backups/tenant-b/${B_FILE}`), put(B_ARCHIVE)));
  await expectCreated(
    await admin.post(
      '/api/github/backup/notify',
      notification('tenant-b', { bucket: B_BUCKET, message: B_ACTOR }),
    ),
  );
  await expectCreated(
    await admin.post('/api/github/backup', record('tenant-b', B_FILE_IN_A, { bucket: A_BUCKET, ...secret })),
  );
  await expectCreated(await admin(upload(A_BUCKET, `backups/tenant-b/${B_FILE_IN_A}`), put(B_ARCHIVE)));
  await expectCreated(
    await admin.post(
      '/api/github/backup',
      record('tenant-a', '20250101-000000.tar.gz', { bucket: A_BUCKET }),
    ),
  );
  const mpu = await readJson(
    await admin(upload(B_BUCKET, B_MPU_KEY, '&action=mpu-create'), { method: 'POST' }),
  );
  bUploadId = mpu.uploadId;

  const bPage = await readJson(
    await admin(`/api/github/backup/list?tenant=tenant-b&bucket=${B_BUCKET}&limit=1`),
  );
  bCursor = bPage.cursor;
  const allPage = await readJson(await admin(`/api/github/backup/list?bucket=${A_BUCKET}&limit=1`));
  allTenantsCursor = allPage.cursor;
  expect([bCursor, allTenantsCursor]).toEqual([expect.any(String), expect.any(String)]);

  for (const bucket of [A_BUCKET, B_BUCKET, DEFAULT_BUCKET])
    bucketSnapshots.set(bucket, await listing(bucket));
});
afterAll(async () => {
  await stack?.stop();
  await issuer?.close();
});

/** Tenant A's two credentials: fresh OIDC tokens per request, as a workflow would have. */
const attackers: [string, () => Promise<Api>][] = [
  ['tenant token', async () => apiClient(stack, tokenA.token)],
  ['OIDC identity', async () => apiClient(stack, await issuer.sign('acme/tenant-a'))],
];

type Attack = [string, number, (api: Api) => Promise<Response>];
const bMpu = (action: string) =>
  upload(B_BUCKET, B_MPU_KEY, `&action=${action}&uploadId=${encodeURIComponent(bUploadId)}`);
const attacks: Attack[] = [
  [
    'metadata naming tenant B in B bucket',
    403,
    (api) =>
      api.post('/api/github/backup', record('tenant-b', '20250109-000000.tar.gz', { bucket: B_BUCKET })),
  ],
  [
    'metadata naming tenant B in own bucket',
    403,
    (api) =>
      api.post('/api/github/backup', record('tenant-b', '20250109-000000.tar.gz', { bucket: A_BUCKET })),
  ],
  [
    'metadata of own tenant in B bucket',
    403,
    (api) =>
      api.post('/api/github/backup', record('tenant-a', '20250109-000000.tar.gz', { bucket: B_BUCKET })),
  ],
  [
    'metadata without bucket (the shared default)',
    403,
    (api) => api.post('/api/github/backup', record('tenant-a', '20250109-000000.tar.gz')),
  ],
  [
    'notification naming tenant B in B bucket',
    403,
    (api) => api.post('/api/github/backup/notify', notification('tenant-b', { bucket: B_BUCKET })),
  ],
  [
    'notification naming tenant B in own bucket',
    403,
    (api) => api.post('/api/github/backup/notify', notification('tenant-b', { bucket: A_BUCKET })),
  ],
  [
    'notification of own tenant in B bucket',
    403,
    (api) => api.post('/api/github/backup/notify', notification('tenant-a', { bucket: B_BUCKET })),
  ],
  ['list without tenant, own bucket', 403, (api) => api(`/api/github/backup/list?bucket=${A_BUCKET}`)],
  ['list without tenant, B bucket', 403, (api) => api(`/api/github/backup/list?bucket=${B_BUCKET}`)],
  ['list without tenant or bucket', 403, (api) => api('/api/github/backup/list')],
  [
    'list tenant B in B bucket',
    403,
    (api) => api(`/api/github/backup/list?tenant=tenant-b&bucket=${B_BUCKET}`),
  ],
  [
    'list tenant B in own bucket',
    403,
    (api) => api(`/api/github/backup/list?tenant=tenant-b&bucket=${A_BUCKET}`),
  ],
  [
    'list own tenant in B bucket',
    403,
    (api) => api(`/api/github/backup/list?tenant=tenant-a&bucket=${B_BUCKET}`),
  ],
  [
    'list tenant B with B cursor',
    403,
    (api) => api(`/api/github/backup/list?tenant=tenant-b&bucket=${B_BUCKET}&cursor=${bCursor}`),
  ],
  [
    "own listing with B's cursor",
    400,
    (api) => api(`/api/github/backup/list?tenant=tenant-a&bucket=${A_BUCKET}&cursor=${bCursor}`),
  ],
  [
    'own listing with the all-tenants cursor',
    400,
    (api) => api(`/api/github/backup/list?tenant=tenant-a&bucket=${A_BUCKET}&cursor=${allTenantsCursor}`),
  ],
  [
    'latest of tenant B in B bucket',
    403,
    (api) => api(`/api/github/backup/tenant-b/latest?bucket=${B_BUCKET}`),
  ],
  [
    'latest of tenant B in own bucket',
    403,
    (api) => api(`/api/github/backup/tenant-b/latest?bucket=${A_BUCKET}`),
  ],
  [
    'latest of own tenant in B bucket',
    403,
    (api) => api(`/api/github/backup/tenant-a/latest?bucket=${B_BUCKET}`),
  ],
  ['one record of tenant B', 403, (api) => api(`/api/github/backup/tenant-b/${B_FILE}?bucket=${B_BUCKET}`)],
  [
    'one record of tenant B in own bucket',
    403,
    (api) => api(`/api/github/backup/tenant-b/${B_FILE_IN_A}?bucket=${A_BUCKET}`),
  ],
  [
    'record path escaping own tenant',
    400,
    (api) => api(`/api/github/backup/tenant-a%2F..%2Ftenant-b/latest?bucket=${B_BUCKET}`),
  ],
  [
    'upload into tenant B in B bucket',
    403,
    (api) => api(upload(B_BUCKET, 'backups/tenant-b/20250109-000000.tar.gz'), put('x')),
  ],
  [
    'upload into tenant B in own bucket',
    403,
    (api) => api(upload(A_BUCKET, 'backups/tenant-b/20250109-000000.tar.gz'), put('x')),
  ],
  [
    'upload of own tenant into B bucket',
    403,
    (api) => api(upload(B_BUCKET, 'backups/tenant-a/20250109-000000.tar.gz'), put('x')),
  ],
  [
    'upload key escaping own prefix',
    400,
    (api) => api(upload(A_BUCKET, 'backups/tenant-a/../tenant-b/20250109-000000.tar.gz'), put('x')),
  ],
  [
    'multipart create in tenant B',
    403,
    (api) =>
      api(upload(A_BUCKET, 'backups/tenant-b/20250109-000000.tar.gz', '&action=mpu-create'), {
        method: 'POST',
      }),
  ],
  ["part into B's multipart upload", 403, (api) => api(`${bMpu('mpu-uploadpart')}&partNumber=1`, put('x'))],
  [
    "completing B's multipart upload",
    403,
    (api) => api(bMpu('mpu-complete'), { method: 'POST', json: { parts: [{ partNumber: 1, etag: 'x' }] } }),
  ],
  ["aborting B's multipart upload", 403, (api) => api(bMpu('mpu-abort'), { method: 'DELETE' })],
  ["download of B's archive", 403, (api) => api(download(B_BUCKET, `backups/tenant-b/${B_FILE}`))],
  [
    "download of B's archive in own bucket",
    403,
    (api) => api(download(A_BUCKET, `backups/tenant-b/${B_FILE_IN_A}`)),
  ],
  [
    "download of B's metadata record",
    403,
    (api) => api(download(B_BUCKET, `backups/tenant-b/metadata/${B_FILE}.json`)),
  ],
  [
    'download of own tenant from B bucket',
    403,
    (api) => api(download(B_BUCKET, `backups/tenant-a/${B_FILE}`)),
  ],
  [
    'download key escaping own prefix',
    400,
    (api) => api(download(A_BUCKET, `backups/tenant-a/../tenant-b/${B_FILE_IN_A}`)),
  ],
];

describe.each(attackers)("tenant A's %s against tenant B", (_, credential) => {
  test.each(attacks)('%s -> %d, nothing revealed', async (_name, status, attack) => {
    const response = await attack(await credential());
    const text = await response.text();
    expect({ status: response.status, body: JSON.parse(text) }).toMatchObject({
      status,
      body: { success: false, error: status === 403 ? 'Forbidden' : expect.any(String) },
    });
    for (const marker of [B_SHA256, B_ACTOR, B_ARCHIVE, B_OTHER_FILE]) expect(text).not.toContain(marker);
  });
});

test('nothing was written, changed or removed by the refused requests', async () => {
  for (const [bucket, before] of bucketSnapshots) expect(await listing(bucket)).toBe(before);
  // B's multipart upload survived the abort attempts: the admin completes it.
  const part = await readJson(await admin(`${bMpu('mpu-uploadpart')}&partNumber=1`, put(B_ARCHIVE)));
  const done = await admin(bMpu('mpu-complete'), {
    method: 'POST',
    json: { parts: [{ partNumber: 1, etag: part.etag }] },
  });
  expect(done.status).toBe(201);
  expect(await aws(stack, 's3', 'cp', `s3://${B_BUCKET}/${B_MPU_KEY}`, '-')).toBe(B_ARCHIVE);
});

describe.each([
  ['tenant token', tokenA.principal, async () => apiClient(stack, tokenA.token), '20250201-100000'],
  [
    'OIDC identity',
    'oidc:acme/tenant-a',
    async () => apiClient(stack, await issuer.sign('acme/tenant-a')),
    '20250201-110000',
  ],
] as const)("tenant A's %s on A's own data", (_, principal, credential, stamp) => {
  const file = `${stamp}.tar.gz`;
  const key = `backups/tenant-a/${file}`;

  test('records metadata and a notification under its principal', async () => {
    const api = await credential();
    const created = await expectCreated(
      await api.post('/api/github/backup', record('tenant-a', file, { bucket: A_BUCKET })),
    );
    expect(created.metadata).toMatchObject({ tenant: 'tenant-a', bucket: A_BUCKET, principal });
    const stored = JSON.parse(
      await aws(stack, 's3', 'cp', `s3://${A_BUCKET}/backups/tenant-a/metadata/${file}.json`, '-'),
    );
    expect(stored.principal).toBe(principal);

    const noted = await expectCreated(
      await api.post(
        '/api/github/backup/notify',
        notification('tenant-a', { bucket: A_BUCKET, backup_file: file }),
      ),
    );
    expect(noted.notification).toMatchObject({ principal });
    const note = JSON.parse(await aws(stack, 's3', 'cp', `s3://${A_BUCKET}/${noted.key}`, '-'));
    expect(note.principal).toBe(principal);
  });

  test('uploads, multipart-uploads and downloads its archives', async () => {
    const api = await credential();
    const content = randomBytes(64).toString('hex');
    await expectCreated(await api(upload(A_BUCKET, key), put(content)));
    expect(await (await api(download(A_BUCKET, key))).text()).toBe(content);

    const mpuKey = `backups/tenant-a/${stamp}-2.tar.gz`;
    const { uploadId } = await readJson(
      await api(upload(A_BUCKET, mpuKey, '&action=mpu-create'), { method: 'POST' }),
    );
    const q = `&uploadId=${encodeURIComponent(uploadId)}`;
    const part = await readJson(
      await api(upload(A_BUCKET, mpuKey, `&action=mpu-uploadpart${q}&partNumber=1`), put(content)),
    );
    await expectCreated(
      await api(upload(A_BUCKET, mpuKey, `&action=mpu-complete${q}`), {
        method: 'POST',
        json: { parts: [{ partNumber: 1, etag: part.etag }] },
      }),
    );
    expect(await aws(stack, 's3', 'cp', `s3://${A_BUCKET}/${mpuKey}`, '-')).toBe(content);
  });

  test("lists and reads its own records only, never tenant B's in the same bucket", async () => {
    const api = await credential();
    const list = await readJson(await api(`/api/github/backup/list?tenant=tenant-a&bucket=${A_BUCKET}`));
    expect(list.success).toBe(true);
    expect(list.backups.map((b: { tenant: string }) => b.tenant)).toEqual(list.backups.map(() => 'tenant-a'));
    expect(list.backups.map((b: { backup_file: string }) => b.backup_file)).toContain(file);
    expect(JSON.stringify(list)).not.toContain(B_FILE_IN_A);

    const latest = await readJson(await api(`/api/github/backup/tenant-a/latest?bucket=${A_BUCKET}`));
    expect(latest.metadata.tenant).toBe('tenant-a');
    const one = await readJson(await api(`/api/github/backup/tenant-a/${file}?bucket=${A_BUCKET}`));
    expect(one.metadata).toMatchObject({ backup_file: file, principal });
  });
});

test("the admin reaches every tenant: B's records, and the listing of every tenant", async () => {
  const one = await readJson(await admin(`/api/github/backup/tenant-b/${B_FILE}?bucket=${B_BUCKET}`));
  expect(one.metadata).toMatchObject({ sha256: B_SHA256, principal: 'admin' });
  const all = await readJson(await admin(`/api/github/backup/list?bucket=${A_BUCKET}`));
  expect(new Set(all.backups.map((b: { tenant: string }) => b.tenant))).toEqual(
    new Set(['tenant-a', 'tenant-b']),
  );
  expect(await (await admin(download(B_BUCKET, `backups/tenant-b/${B_FILE}`))).text()).toBe(B_ARCHIVE);
});

describe('tokens made by createTenantToken (the CLI token create)', () => {
  test("tenant B's token reaches tenant B only", async () => {
    const api = apiClient(stack, tokenB.token);
    const list = await readJson(await api(`/api/github/backup/list?tenant=tenant-b&bucket=${B_BUCKET}`));
    expect(list.backups.map((b: { backup_file: string }) => b.backup_file).sort()).toEqual([
      B_FILE,
      B_OTHER_FILE,
    ]);
    expect((await api(`/api/github/backup/list?tenant=tenant-a&bucket=${A_BUCKET}`)).status).toBe(403);
  });

  test('a token with explicit buckets uses those buckets, not its default one', async () => {
    const api = apiClient(stack, tokenC.token);
    const body = record('tenant-c', '20250301-000000.tar.gz', { bucket: 'my-bucket' });
    expect((await expectCreated(await api.post('/api/github/backup', body))).metadata).toMatchObject({
      principal: tokenC.principal,
    });
    const elsewhere = await api.post('/api/github/backup', { ...body, bucket: 'tenant-a-github-backup' });
    expect(elsewhere.status).toBe(403);
  });

  test('a token not in TENANT_TOKENS, or a changed one, is 401', async () => {
    for (const token of [createTenantToken(['tenant-a']).token, `${tokenA.token}x`, tokenA.sha256]) {
      const response = await apiClient(
        stack,
        token,
      )(`/api/github/backup/list?tenant=tenant-a&bucket=${A_BUCKET}`);
      expect({ status: response.status, body: await readJson(response) }).toEqual({
        status: 401,
        body: { success: false, error: 'Unauthorized' },
      });
    }
  });

  test("B's OIDC identity reaches B's data and not A's", async () => {
    const api = apiClient(stack, await issuer.sign('acme/tenant-b'));
    expect((await api(`/api/github/backup/tenant-b/latest?bucket=${B_BUCKET}`)).status).toBe(200);
    expect((await api(`/api/github/backup/tenant-a/latest?bucket=${A_BUCKET}`)).status).toBe(403);
  });
});
