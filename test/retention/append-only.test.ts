// Append-only by default (issue 23), in workerd: a `backup` credential (a tenant token without a
// role, one with "role": "backup", an OIDC grant) cannot prune, delete or overwrite anything on
// any route (403 naming the role needed, or 409 for an existing object; the bucket unchanged,
// object by object and byte by byte per awscli), a `maintain` credential can prune and delete,
// MIN_RETENTION_DAYS refuses deletes of young backups even to the admin token, and the Worker
// applies its own RETENTION_POLICIES after each recorded backup without ever deleting the backup
// just recorded nor one recorded during that run (issue 25 item 6).
import { createHash } from 'node:crypto';
import { stampOf } from '../../common/naming.js';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { startIssuer, AUDIENCE, type LocalIssuer } from '../isolation/issuer.js';
import { aws, apiClient, COMMIT, newToken, readJson, type Api } from '../worker/helpers.js';
import { runCli, workerEnv } from '../cli/helpers.js';
import { keysOf, storeBackup } from './helpers.js';

const BUCKET = 'tenant-a-github-backup';
const adminToken = newToken();
const rawToken = (): string => `r2b_${newToken()}`;
const digest = (token: string): string => createHash('sha256').update(token).digest('hex');
const backupToken = rawToken(); // no role: the default, backup
const explicitBackupToken = rawToken(); // "role": "backup"
const maintainToken = rawToken();
const lockedMaintainToken = rawToken();
const TENANT_TOKENS = {
  [digest(backupToken)]: { tenants: ['tenant-a', 'policy-a', 'runs-a', 'future', 'daily-a'] },
  [digest(explicitBackupToken)]: { tenants: ['tenant-a'], role: 'backup' },
  [digest(maintainToken)]: { tenants: ['tenant-a', 'overlap', 'future'], role: 'maintain' },
  [digest(lockedMaintainToken)]: { tenants: ['locked'], buckets: ['my-bucket'], role: 'maintain' },
};

let stack: LocalStack;
let issuer: LocalIssuer;
let admin: Api;

/** Every object of the bucket with its ETag and size (awscli s3api): overwrites show. */
async function objects(bucket = BUCKET): Promise<string> {
  const out = await aws(stack, 's3api', 'list-objects-v2', '--bucket', bucket, '--output', 'json');
  const listed =
    ((out.trim() ? JSON.parse(out) : {}) as { Contents?: Record<string, unknown>[] }).Contents ?? [];
  return listed
    .map((o) => `${o.Key as string} ${o.Size as number} ${o.ETag as string}`)
    .sort()
    .join('\n');
}

const FILES = ['20261101-120000.tar.gz', '20261102-120000.tar.gz', '20261103-120000.tar.gz'];
const LFS_OBJECT = 'an LFS object';
const oidOf = (content: string): string => createHash('sha256').update(content).digest('hex');
const COMPANION_KEYS = [
  'backups/tenant-a/20261103-120000.meta.tar.zst',
  'backups/tenant-a/20261103-120000.wiki.bundle',
  'backups/tenant-a/20261103-120000.lfs.json',
  'backups/tenant-a/20261103-120000.meta.tar.zst.age',
  `lfs/tenant-a/${oidOf(LFS_OBJECT)}`,
];

beforeAll(async () => {
  issuer = await startIssuer();
  stack = await startLocalStack({
    env: 'test',
    testScheduled: true,
    vars: {
      CLOUDCONNECT: adminToken,
      TENANT_TOKENS: JSON.stringify(TENANT_TOKENS),
      OIDC_ISSUER: issuer.issuer,
      OIDC_JWKS_URL: issuer.jwksUrl,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_POLICY: JSON.stringify({
        owners: { acme: { tenant: '{repo}' }, keepers: { tenant: '{owner}--{repo}', role: 'maintain' } },
        repositories: { 'ops/cleaner': { tenants: ['overlap'], buckets: [BUCKET], role: 'maintain' } },
      }),
      TENANT_BUCKETS: JSON.stringify({ 'keepers--vault': BUCKET }),
      MIN_RETENTION_DAYS: JSON.stringify({ locked: 30 }),
      RETENTION_POLICIES: JSON.stringify({
        [BUCKET]: { 'policy-a': { keep_last: 2 }, 'runs-a': { keep_last: 1 }, 'daily-a': { keep_daily: 4 } },
        'my-bucket': { locked: { keep_last: 1 } },
      }),
    },
  });
  admin = apiClient(stack, adminToken);
  for (const backupFile of FILES)
    await storeBackup(admin, { tenant: 'tenant-a', bucket: BUCKET, backupFile });
  // A git bundle beside the newest archive, as the action's include-git-history stores it.
  const bundle = await admin(
    `/api/r2/buckets/${BUCKET}/upload?key=${encodeURIComponent('backups/tenant-a/20261103-120000.bundle')}`,
    { method: 'PUT', body: 'the git bundle' },
  );
  expect(bundle.status).toBe(201);
  // Everything else the upload route takes: companions (plain and encrypted) and an LFS object.
  for (const key of COMPANION_KEYS) {
    const body = key.startsWith('lfs/') ? LFS_OBJECT : `the first ${key}`;
    const put = await admin(upload(key), { method: 'PUT', body });
    expect([key, put.status]).toEqual([key, 201]);
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await issuer?.close();
});

const record = (backupFile: string, extra: Record<string, unknown> = {}) => ({
  tenant: 'tenant-a',
  bucket: BUCKET,
  repo: 'acme/tenant-a',
  branch: 'main',
  commit: COMMIT,
  backup_file: backupFile,
  action: 'upload',
  ...extra,
});
const upload = (key: string, action = '') =>
  `/api/r2/buckets/${BUCKET}/upload?key=${encodeURIComponent(key)}${action ? `&action=${action}` : ''}`;

describe('a backup credential adds backups and never destroys them', () => {
  const credentials = async (): Promise<[string, Api][]> => [
    ['tenant token without a role', apiClient(stack, backupToken)],
    ['tenant token with role backup', apiClient(stack, explicitBackupToken)],
    ['OIDC grant', apiClient(stack, await issuer.sign('acme/tenant-a'))],
  ];

  test('prune, delete and resign are 403 naming the maintain role; nothing changes', async () => {
    const before = await objects();
    for (const [name, api] of await credentials()) {
      const attempts: [string, Response][] = [
        [
          'prune',
          await api.post('/api/github/backup/prune', { tenant: 'tenant-a', bucket: BUCKET, keep_last: 1 }),
        ],
        [
          'delete',
          await api(`/api/github/backup/tenant-a/${FILES[0]}?bucket=${BUCKET}`, { method: 'DELETE' }),
        ],
      ];
      for (const [what, response] of attempts) {
        const body = await readJson(response);
        expect({ credential: name, what, status: response.status, body }).toEqual({
          credential: name,
          what,
          status: 403,
          body: {
            success: false,
            error: 'Forbidden',
            reason: expect.stringMatching(/needs the maintain role.*has the backup role/),
            required_role: 'maintain',
          },
        });
      }
      const resign = await api.post('/api/github/backup/resign', { bucket: BUCKET });
      expect([name, resign.status]).toEqual([name, 403]);
    }
    expect(await objects()).toBe(before);
  });

  test('a dry run is allowed: it reads, and deletes nothing', async () => {
    const before = await objects();
    for (const [name, api] of await credentials()) {
      const response = await api.post('/api/github/backup/prune', {
        tenant: 'tenant-a',
        bucket: BUCKET,
        keep_last: 1,
        dry_run: true,
      });
      const body = await readJson(response);
      expect([name, response.status, body.count_deleted]).toEqual([name, 200, 2]);
    }
    expect(await objects()).toBe(before);
  });

  test('records, archives, bundles, companions and LFS objects are never overwritten: 409, same bytes', async () => {
    const before = await objects();
    for (const [name, api] of await credentials()) {
      const again = await api.post('/api/github/backup', record(FILES[1]!, { size: 1 }));
      expect([name, again.status]).toEqual([name, 409]);
      for (const key of [
        `backups/tenant-a/${FILES[1]}`,
        'backups/tenant-a/20261103-120000.bundle',
        ...COMPANION_KEYS,
      ]) {
        // An LFS key takes only its own bytes (other bytes are 400, the test below).
        const body = key.startsWith('lfs/') ? LFS_OBJECT : 'replaced';
        const put = await api(upload(key), { method: 'PUT', body });
        expect([name, key, put.status]).toEqual([name, key, 409]);
        const create = await api(upload(key, 'mpu-create'), { method: 'POST' });
        expect([name, key, create.status]).toEqual([name, key, 409]);
      }
    }
    expect(await objects()).toBe(before);
  });

  test("an LFS object's bytes must hash to its oid: planted bytes are refused (single PUT and multipart), nothing stored", async () => {
    const key = `lfs/tenant-a/${oidOf('the real object')}`;
    const before = await objects();
    for (const [name, api] of [...(await credentials()), ['admin token', admin] as [string, Api]]) {
      const put = await api(upload(key), { method: 'PUT', body: 'planted bytes' });
      expect([name, put.status, (await readJson(put)).error]).toEqual([
        name,
        400,
        expect.stringMatching(/R2/),
      ]);
    }
    expect(await objects()).toBe(before);
    // Multipart, which R2 cannot check against a digest: read back at complete, removed, 400.
    const api = apiClient(stack, backupToken);
    const created = await readJson(await api(upload(key, 'mpu-create'), { method: 'POST' }));
    const uploadId = `&uploadId=${encodeURIComponent(created.uploadId)}`;
    const part = await readJson(
      await api(`${upload(key, 'mpu-uploadpart')}${uploadId}&partNumber=1`, {
        method: 'PUT',
        body: 'planted bytes',
      }),
    );
    const complete = await api(`${upload(key, 'mpu-complete')}${uploadId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ parts: [{ partNumber: 1, etag: part.etag }] }),
    });
    expect([complete.status, (await readJson(complete)).error]).toEqual([
      400,
      expect.stringMatching(/are not its oid .*nothing was stored/),
    ]);
    expect(await objects()).toBe(before);
    const real = await api(upload(key), { method: 'PUT', body: 'the real object' });
    expect(real.status).toBe(201);
    expect(await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, '-')).toBe('the real object');
  });

  test('a multipart upload started before the key existed cannot complete over it', async () => {
    const api = apiClient(stack, backupToken);
    const key = 'backups/tenant-a/20261104-120000.tar.gz';
    const created = await readJson(await api(upload(key, 'mpu-create'), { method: 'POST' }));
    const part = await readJson(
      await api(
        `${upload(key, 'mpu-uploadpart')}&uploadId=${encodeURIComponent(created.uploadId)}&partNumber=1`,
        {
          method: 'PUT',
          body: 'the attacker',
        },
      ),
    );
    // Meanwhile the real run stores its archive under that key.
    expect((await api(upload(key), { method: 'PUT', body: 'the real archive' })).status).toBe(201);
    const before = await objects();
    const complete = await api(
      `${upload(key, 'mpu-complete')}&uploadId=${encodeURIComponent(created.uploadId)}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ parts: [{ partNumber: 1, etag: part.etag }] }),
      },
    );
    expect(complete.status).toBe(409);
    expect(await objects()).toBe(before);
    expect(await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, '-')).toBe('the real archive');
  });

  test('notifications never replace one another, and the mirror cannot be written through the Worker', async () => {
    const api = apiClient(stack, backupToken);
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await api.post('/api/github/backup/notify', {
        tenant: 'tenant-a',
        bucket: BUCKET,
        repo: 'acme/tenant-a',
        branch: 'main',
        commit: COMMIT,
        status: 'success',
        backup_file: FILES[2],
      });
      expect(response.status).toBe(201);
      keys.push((await readJson(response)).key);
    }
    expect(new Set(keys).size).toBe(3);
    expect(await keysOf(stack, BUCKET)).toEqual(expect.arrayContaining(keys));
    const before = await objects();
    for (const key of [
      'repos/tenant-a/.r2-backup-manifest.json',
      'repos/tenant-a/main/README.md',
      'backups/tenant-a/metadata/20261101-120000.tar.gz.json',
      'backups/tenant-a/notifications/x.json',
    ]) {
      const put = await api(upload(key), { method: 'PUT', body: '{}' });
      expect([key, put.status]).toEqual([key, 400]);
    }
    expect(await objects()).toBe(before);
  });
});

describe('a maintain credential prunes and deletes', () => {
  test('prune with a maintain token deletes what the policy does not keep', async () => {
    const api = apiClient(stack, maintainToken);
    const response = await api.post('/api/github/backup/prune', {
      tenant: 'tenant-a',
      bucket: BUCKET,
      keep_last: 2,
    });
    const body = await readJson(response);
    expect([response.status, body.count_deleted]).toEqual([200, 1]);
    expect(body.deleted.map((d: { backup_file: string }) => d.backup_file)).toEqual([FILES[0]]);
    const keys = await keysOf(stack, BUCKET);
    expect(keys.filter((k) => k.includes(FILES[0]!.slice(0, 15)))).toEqual([]);
  });

  test('DELETE one backup removes archive, record and notifications, never the newest', async () => {
    const api = apiClient(stack, maintainToken);
    const response = await api(`/api/github/backup/tenant-a/${FILES[1]}?bucket=${BUCKET}`, {
      method: 'DELETE',
    });
    const body = await readJson(response);
    expect([response.status, body.success, body.backup_file]).toEqual([200, true, FILES[1]]);
    expect(body.keys).toEqual(
      expect.arrayContaining([`backups/tenant-a/${FILES[1]}`, `backups/tenant-a/metadata/${FILES[1]}.json`]),
    );
    expect((await keysOf(stack, BUCKET)).filter((k) => k.includes(FILES[1]!.slice(0, 15)))).toEqual([]);
    const before = await objects();
    const newest = await api(`/api/github/backup/tenant-a/${FILES[2]}?bucket=${BUCKET}`, {
      method: 'DELETE',
    });
    expect([newest.status, (await readJson(newest)).error]).toEqual([409, expect.stringMatching(/newest/)]);
    const missing = await api(`/api/github/backup/tenant-a/20200101-000000.tar.gz?bucket=${BUCKET}`, {
      method: 'DELETE',
    });
    expect(missing.status).toBe(404);
    expect(await objects()).toBe(before);
  });

  test('an OIDC grant with role maintain may prune its tenant', async () => {
    const api = apiClient(stack, await issuer.sign('ops/cleaner'));
    const response = await api.post('/api/github/backup/prune', {
      tenant: 'overlap',
      bucket: BUCKET,
      keep_last: 1,
    });
    expect([response.status, (await readJson(response)).count_deleted]).toEqual([200, 0]);
    const other = await api.post('/api/github/backup/prune', {
      tenant: 'tenant-a',
      bucket: BUCKET,
      keep_last: 1,
    });
    expect(other.status).toBe(403);
  });
  // A backup credential names its backups: one named in 2099 must not become "the newest" for
  // good, so that keep_days counted from it would push out every real backup.
  test("an owner-level OIDC grant with role maintain prunes its repositories' tenants, and only those", async () => {
    for (const backupFile of FILES)
      await storeBackup(admin, { tenant: 'keepers--vault', bucket: BUCKET, backupFile });
    const api = apiClient(stack, await issuer.sign('keepers/vault'));
    const pruned = await api.post('/api/github/backup/prune', {
      tenant: 'keepers--vault',
      bucket: BUCKET,
      keep_last: 1,
    });
    expect([pruned.status, (await readJson(pruned)).count_deleted]).toEqual([200, 2]);
    expect(
      (await keysOf(stack, BUCKET)).filter((k) => k.startsWith('backups/keepers--vault/metadata/')),
    ).toEqual([`backups/keepers--vault/metadata/${FILES[2]}.json`]);
    // acme's owner entry has no role: its repositories' grants may not delete.
    const acme = await apiClient(stack, await issuer.sign('acme/tenant-a')).post('/api/github/backup/prune', {
      tenant: 'tenant-a',
      bucket: BUCKET,
      keep_last: 1,
    });
    expect([acme.status, (await readJson(acme)).required_role]).toEqual([403, 'maintain']);
  });

  test('a record named in the future cannot pass for the newest and push real backups out', async () => {
    const asBackup = apiClient(stack, backupToken);
    const hoursAgo = (h: number) => `${stampOf(new Date(Date.now() - h * 3600_000))}.tar.gz`;
    const real = [hoursAgo(2)];
    await storeBackup(asBackup, { tenant: 'future', bucket: BUCKET, backupFile: real[0]! });
    await storeBackup(asBackup, {
      tenant: 'future',
      bucket: BUCKET,
      backupFile: '20991231-000000.tar.gz',
      archive: null,
    });
    real.push(hoursAgo(1));
    await storeBackup(asBackup, { tenant: 'future', bucket: BUCKET, backupFile: real[1]! });
    const response = await apiClient(stack, maintainToken).post('/api/github/backup/prune', {
      tenant: 'future',
      bucket: BUCKET,
      keep_days: 1,
    });
    const pruned = await readJson(response);
    expect([response.status, pruned.count_deleted]).toEqual([200, 0]);
    expect(await keysOf(stack, BUCKET)).toEqual(
      expect.arrayContaining(real.map((f) => `backups/future/metadata/${f}.json`)),
    );
  });
});

describe('MIN_RETENTION_DAYS: a lock no credential lifts', () => {
  test('young backups survive prune and delete by the admin token and a maintain token', async () => {
    // Stamps years old: the lock counts from when the Worker stored them, not from their names.
    for (const backupFile of ['20200101-000000.tar.gz', '20200102-000000.tar.gz', '20200103-000000.tar.gz']) {
      await storeBackup(admin, { tenant: 'locked', bucket: 'my-bucket', backupFile });
    }
    const before = await objects('my-bucket');
    for (const token of [adminToken, lockedMaintainToken]) {
      const api = apiClient(stack, token);
      const pruned = await readJson(
        await api.post('/api/github/backup/prune', { tenant: 'locked', bucket: 'my-bucket', keep_last: 1 }),
      );
      expect([pruned.count_kept, pruned.count_deleted]).toEqual([3, 0]);
      expect(pruned.kept[2].reasons).toEqual(['locked: stored less than 30 days ago (MIN_RETENTION_DAYS)']);
      const deleted = await api(`/api/github/backup/locked/20200101-000000.tar.gz?bucket=my-bucket`, {
        method: 'DELETE',
      });
      expect([deleted.status, (await readJson(deleted)).reason]).toEqual([
        403,
        expect.stringMatching(/MIN_RETENTION_DAYS keeps backups of tenant locked for 30 days/),
      ]);
    }
    // The cron (RETENTION_POLICIES keeps 1 of "locked") deletes nothing either.
    expect((await fetch(`${stack.url}/__scheduled?cron=${encodeURIComponent('17 3 * * *')}`)).status).toBe(
      200,
    );
    expect(await objects('my-bucket')).toBe(before);
  });
});

describe("the Worker's policy after each recorded backup", () => {
  test('RETENTION_POLICIES applies when a backup token records, and keeps the new backup', async () => {
    const api = apiClient(stack, backupToken);
    const answers = [];
    for (const backupFile of ['20261001-120000.tar.gz', '20261002-120000.tar.gz', '20261003-120000.tar.gz']) {
      // Archive first, then the record: the order the action uses.
      const key = `backups/policy-a/${backupFile}`;
      expect((await api(upload(key), { method: 'PUT', body: `archive ${backupFile}` })).status).toBe(201);
      const response = await api.post('/api/github/backup', {
        ...record(backupFile),
        tenant: 'policy-a',
        repo: 'acme/policy-a',
      });
      expect(response.status).toBe(201);
      answers.push(await readJson(response));
    }
    expect(answers.map((a) => a.retention?.count_deleted)).toEqual([0, 0, 1]);
    expect(answers[2].retention).toMatchObject({
      policy: { keep_last: 2 },
      deleted: ['20261001-120000.tar.gz'],
    });
    expect((await keysOf(stack, BUCKET)).filter((k) => k.startsWith('backups/policy-a/'))).toEqual(
      ['20261002-120000.tar.gz', '20261003-120000.tar.gz']
        .flatMap((f) => [`backups/policy-a/${f}`, `backups/policy-a/metadata/${f}.json`])
        .sort(),
    );
  });

  test("a backup credential cannot backdate a backup into an older day's place (keep_daily)", async () => {
    // Three days of real backups at noon, recorded by the admin token (an import: names trusted).
    const day = (daysAgo: number, time: string) =>
      `${stampOf(new Date(Date.now() - daysAgo * 86_400_000)).slice(0, 8)}-${time}.tar.gz`;
    const real = [day(3, '120000'), day(2, '120000'), day(1, '120000')];
    for (const backupFile of real)
      await storeBackup(admin, { tenant: 'daily-a', bucket: BUCKET, backupFile });
    // A stolen backup token records a backup named two days ago, one second before midnight: by
    // its name, the newest of that day, which keep_daily would keep instead of the real one.
    const planted = day(2, '235959');
    await storeBackup(apiClient(stack, backupToken), {
      tenant: 'daily-a',
      bucket: BUCKET,
      backupFile: planted,
    });
    const records = (await keysOf(stack, BUCKET))
      .filter((k) => k.startsWith('backups/daily-a/metadata/'))
      .map((k) => k.slice('backups/daily-a/metadata/'.length, -'.json'.length));
    // It counts from when R2 stored it (today): four days, four backups kept.
    expect(records.sort()).toEqual([...real, planted].sort());
    const dry = await readJson(
      await admin.post('/api/github/backup/prune', {
        tenant: 'daily-a',
        bucket: BUCKET,
        keep_daily: 4,
        dry_run: true,
      }),
    );
    const today = stampOf(new Date()).slice(0, 8);
    expect(dry.kept.find((k: { backup_file: string }) => k.backup_file === planted).reasons).toEqual(
      expect.arrayContaining([`daily ${today.slice(0, 4)}-${today.slice(4, 6)}-${today.slice(6, 8)}`]),
    );
  });

  test('list, inventory and r2-backup list show the retention in force', async () => {
    const list = await readJson(await admin(`/api/github/backup/list?tenant=policy-a&bucket=${BUCKET}`));
    expect(list.retention).toEqual({ policy: { keep_last: 2 }, min_retention_days: 0 });
    const inventory = await readJson(await admin('/api/github/backup/locked/inventory?bucket=my-bucket'));
    expect(inventory.retention).toEqual({ policy: { keep_last: 1 }, min_retention_days: 30 });
    const shown = await runCli(
      ['list', '--tenant', 'policy-a', '--bucket', BUCKET],
      workerEnv(stack, adminToken),
    );
    expect(shown.stdout).toContain("Retention: the Worker's policy keeps keep-last 2.");
    const none = await runCli(
      ['list', '--tenant', 'tenant-a', '--bucket', BUCKET],
      workerEnv(stack, adminToken),
    );
    expect(none.stdout).toContain('Retention: no Worker policy (RETENTION_POLICIES)');
  });

  test('overlapping runs: a run never loses its own backup, nor one recorded while it ran', async () => {
    const api = apiClient(stack, backupToken);
    const store = async (backupFile: string, durationMs?: number) => {
      await api(upload(`backups/runs-a/${backupFile}`), { method: 'PUT', body: backupFile });
      const response = await api.post('/api/github/backup', {
        ...record(backupFile),
        tenant: 'runs-a',
        repo: 'acme/runs-a',
        ...(durationMs === undefined ? {} : { duration_ms: durationMs }),
      });
      expect(response.status).toBe(201);
      return (await readJson(response)).retention;
    };
    // keep_last 1 for runs-a. X is old; B (newest) records and X goes.
    await store('20261001-120000.tar.gz');
    expect((await store('20261005-120000.tar.gz')).deleted).toEqual(['20261001-120000.tar.gz']);
    // C started before B (older stamp, and its duration says so) but records after it: C is
    // this run's backup, and B was recorded while C ran: both kept.
    expect(await store('20261003-120000.tar.gz', 60_000)).toMatchObject({ deleted: [] });
    // A started a minute ago, before C recorded, and records last: A and C both stay.
    expect(await store('20261004-120000.tar.gz', 60_000)).toMatchObject({ deleted: [] });
    const left = (await keysOf(stack, BUCKET)).filter((k) => k.startsWith('backups/runs-a/metadata/'));
    expect(left).toEqual(
      ['20261003-120000.tar.gz', '20261004-120000.tar.gz', '20261005-120000.tar.gz'].map(
        (f) => `backups/runs-a/metadata/${f}.json`,
      ),
    );
  });

  test("a prune naming its run keeps the run's backup and those recorded since it started", async () => {
    const api = apiClient(stack, maintainToken);
    for (const backupFile of ['20261101-000000.tar.gz', '20261102-000000.tar.gz', '20261103-000000.tar.gz']) {
      await storeBackup(admin, { tenant: 'overlap', bucket: BUCKET, backupFile, notify: false });
    }
    const pruned = await readJson(
      await api.post('/api/github/backup/prune', {
        tenant: 'overlap',
        bucket: BUCKET,
        keep_last: 1,
        run: { backup_file: '20261101-000000.tar.gz', started_ms_ago: 60_000 },
      }),
    );
    expect(pruned.count_deleted).toBe(0);
    expect(
      pruned.kept.map((k: { backup_file: string; reasons: string[] }) => [k.backup_file, k.reasons]),
    ).toEqual([
      ['20261103-000000.tar.gz', ['newest', 'last']],
      ['20261102-000000.tar.gz', ['recorded during this run']],
      ['20261101-000000.tar.gz', ['this run']],
    ]);
    const bad = await api.post('/api/github/backup/prune', {
      tenant: 'overlap',
      bucket: BUCKET,
      keep_last: 1,
      run: { backup_file: '../x', started_ms_ago: -1 },
    });
    expect([bad.status, (await readJson(bad)).field]).toEqual([400, 'run.backup_file']);
  });
});

describe('role configuration fails closed', () => {
  test.each([
    [
      'TENANT_TOKENS',
      { [digest(rawToken())]: { tenants: ['x'], role: 'admin' } },
      /TENANT_TOKENS entry 1 "role" must be "backup" or "maintain"/,
    ],
    ['MIN_RETENTION_DAYS', 'soon', /MIN_RETENTION_DAYS must be/],
  ])(
    '%s',
    async (variable, value, message) => {
      const broken = await startLocalStack({
        env: 'test',
        vars: {
          CLOUDCONNECT: adminToken,
          TENANT_TOKENS: JSON.stringify(TENANT_TOKENS),
          [variable]: typeof value === 'string' ? value : JSON.stringify(value),
        },
      });
      try {
        const api = apiClient(broken, variable === 'TENANT_TOKENS' ? backupToken : adminToken);
        const path =
          variable === 'TENANT_TOKENS'
            ? `/api/github/backup/list?tenant=tenant-a&bucket=${BUCKET}`
            : '/api/github/backup/prune';
        const response =
          variable === 'TENANT_TOKENS'
            ? await api(path)
            : await api.post(path, { tenant: 'tenant-a', bucket: BUCKET, keep_last: 1 });
        const body = await readJson(response);
        expect([response.status, body.error]).toEqual([500, expect.stringMatching(message)]);
      } finally {
        await broken.stop();
      }
    },
    120_000,
  );
});
