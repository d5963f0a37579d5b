// The prune route and the retention cron, in workerd: 60 backups across 90 days pruned by a
// policy keep exactly the hand-computed set of test/common/retention.test.ts, and every object
// of a deleted backup is gone (awscli) while the kept ones, orphans and unrelated objects stay;
// dry_run deletes nothing; the newest run survives; tenant isolation; the cron applies
// RETENTION_POLICIES.
import { stampOf } from '../../common/naming.js';
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { BACKUP_TIMES, COMBINED_POLICY_KEEPS } from '../helpers/retention-fixture.js';
import { apiClient, newToken, readJson, type Api } from '../worker/helpers.js';
import { inBatches, keysOf, plant, snapshot, storeBackup, type StoredBackup } from './helpers.js';

const A_BUCKET = 'tenant-a-github-backup';
const B_BUCKET = 'tenant-b-github-backup';
const POLICY = { keep_last: 2, keep_days: 7, keep_daily: 5, keep_weekly: 4, keep_monthly: 3 };
const STAMPS = BACKUP_TIMES.map(stampOf);
const KEPT_STAMPS = COMBINED_POLICY_KEEPS.map(([stamp]) => stamp);
// One deleted and one kept backup get a sibling object and an old-style notification.
const DELETED_STAMP = '20260302-100000';
const KEPT_STAMP = '20260315-220000';
const ORPHAN_KEY = 'backups/tenant-a/20251201-000000.tar.gz';

const adminToken = newToken();
// Pruning deletes: a token with the maintain role (test/retention/append-only.test.ts: a backup
// token cannot).
const tokenA = createTenantToken(['tenant-a'], [], 'maintain');
const RETENTION_POLICIES = {
  'my-bucket': { 'cron-tenant': { keep_last: 2 } },
  'autonomous-coding-agent': { 'cron-days': { keep_days: 2 } },
};

let stack: LocalStack;
let admin: Api;
let asA: Api;
let stored: StoredBackup[];
let unrelatedNotification: string;

const prune = (api: Api, body: Record<string, unknown>) => api.post('/api/github/backup/prune', body);
const days = (n: number, first = '20260101') =>
  Array.from(
    { length: n },
    (_, i) => `${first.slice(0, 6)}${String(Number(first.slice(6)) + i).padStart(2, '0')}-120000.tar.gz`,
  );

beforeAll(async () => {
  stack = await startLocalStack({
    env: 'test',
    testScheduled: true,
    vars: {
      CLOUDCONNECT: adminToken,
      TENANT_TOKENS: `{${tokenA.configEntry}}`,
      RETENTION_POLICIES: JSON.stringify(RETENTION_POLICIES),
    },
  });
  admin = apiClient(stack, adminToken);
  asA = apiClient(stack, tokenA.token);
  expect([STAMPS.includes(DELETED_STAMP), KEPT_STAMPS.includes(DELETED_STAMP)]).toEqual([true, false]);
  expect(KEPT_STAMPS).toContain(KEPT_STAMP);

  stored = await inBatches(STAMPS, 6, (stamp) =>
    storeBackup(admin, { tenant: 'tenant-a', bucket: A_BUCKET, backupFile: `${stamp}.tar.gz` }),
  );
  // An archive without a record, siblings, old-style notifications (before the backup file
  // named them) and a notification of no backup: prune must tell them apart.
  await plant(stack, A_BUCKET, ORPHAN_KEY, 'orphan');
  for (const stamp of [DELETED_STAMP, KEPT_STAMP]) {
    await plant(stack, A_BUCKET, `backups/tenant-a/${stamp}.bundle`, 'git bundle');
    await plant(
      stack,
      A_BUCKET,
      `backups/tenant-a/notifications/${stamp}-0123abcd.json`,
      JSON.stringify({ tenant: 'tenant-a', status: 'success', backup_file: `${stamp}.tar.gz` }),
    );
  }
  // Same stamp, but a notification of no backup (a failed run in that second).
  await plant(
    stack,
    A_BUCKET,
    `backups/tenant-a/notifications/${DELETED_STAMP}-4567cdef.json`,
    JSON.stringify({ tenant: 'tenant-a', status: 'failure' }),
  );
  const general = await admin.post('/api/github/backup/notify', {
    tenant: 'tenant-a',
    bucket: A_BUCKET,
    repo: 'acme/tenant-a',
    branch: 'main',
    commit: '0123456789abcdef0123456789abcdef01234567',
    status: 'failure',
  });
  unrelatedNotification = (await readJson(general)).key;
  // Tenant B's backups, in B's bucket and in A's.
  for (const [bucket, file] of [
    [B_BUCKET, '20260101-120000.tar.gz'],
    [B_BUCKET, '20260102-120000.tar.gz'],
    [A_BUCKET, '20260103-120000.tar.gz'],
  ] as const) {
    await storeBackup(admin, { tenant: 'tenant-b', bucket, backupFile: file });
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe('POST /api/github/backup/prune', () => {
  test('bad input is 400 naming the field, and nothing is deleted', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['tenant', { keep_last: 1 }],
      ['tenant', { tenant: '../x', keep_last: 1 }],
      ['bucket', { tenant: 'tenant-a', bucket: 'Bad_Bucket', keep_last: 1 }],
      ['policy', { tenant: 'tenant-a' }],
      ['policy', { tenant: 'tenant-a', keep_last: null }],
      ['keep_last', { tenant: 'tenant-a', keep_last: 0 }],
      ['keep_days', { tenant: 'tenant-a', keep_days: '7' }],
      ['keep_weekly', { tenant: 'tenant-a', keep_weekly: 1.5 }],
      ['dry_run', { tenant: 'tenant-a', keep_last: 1, dry_run: 'yes' }],
      ['keep_hourly', { tenant: 'tenant-a', keep_hourly: 1 }],
    ];
    const before = await snapshot(stack, A_BUCKET);
    for (const [field, body] of cases) {
      const response = await prune(admin, { bucket: A_BUCKET, ...body });
      expect({ status: response.status, body: await readJson(response) }).toMatchObject({
        status: 400,
        body: { success: false, field },
      });
    }
    expect(await snapshot(stack, A_BUCKET)).toBe(before);
  });

  test('405 for other methods, 404 for an unbound bucket, 401 without a token', async () => {
    const get = await admin('/api/github/backup/prune');
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    const unbound = await prune(admin, { tenant: 'tenant-a', bucket: 'no-such-bucket', keep_last: 1 });
    expect([unbound.status, (await readJson(unbound)).error]).toEqual([404, 'Bucket not found']);
    expect((await prune(apiClient(stack, null), { tenant: 'tenant-a', keep_last: 1 })).status).toBe(401);
  });

  test("a tenant token cannot prune another tenant's backups, in any bucket", async () => {
    const before = [await snapshot(stack, A_BUCKET), await snapshot(stack, B_BUCKET)];
    for (const bucket of [B_BUCKET, A_BUCKET]) {
      for (const dry_run of [false, true]) {
        const response = await prune(asA, { tenant: 'tenant-b', bucket, keep_last: 1, dry_run });
        const body = await readJson(response);
        expect({ status: response.status, error: body.error }).toEqual({ status: 403, error: 'Forbidden' });
        expect(JSON.stringify(body)).not.toContain('20260101-120000');
      }
    }
    expect([await snapshot(stack, A_BUCKET), await snapshot(stack, B_BUCKET)]).toEqual(before);
  });

  test('dry_run answers what would go and deletes nothing', async () => {
    const before = await snapshot(stack, A_BUCKET);
    const response = await prune(asA, { tenant: 'tenant-a', bucket: A_BUCKET, ...POLICY, dry_run: true });
    const body = await readJson(response);
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ success: true, tenant: 'tenant-a', bucket: A_BUCKET, dry_run: true });
    expect(body.kept.map((k: { backup_file: string }) => k.backup_file)).toEqual(
      KEPT_STAMPS.map((s) => `${s}.tar.gz`),
    );
    expect([body.count_kept, body.count_deleted]).toEqual([KEPT_STAMPS.length, 60 - KEPT_STAMPS.length]);
    expect(await snapshot(stack, A_BUCKET)).toBe(before);
  });

  test('a policy keeps exactly the hand-computed set and deletes everything of the others', async () => {
    const before = await keysOf(stack, A_BUCKET);
    const response = await prune(asA, { tenant: 'tenant-a', bucket: A_BUCKET, ...POLICY });
    const body = await readJson(response);
    expect(response.status).toBe(200);
    expect(body.dry_run).toBe(false);
    // The Worker's answer is the pure logic's table, reasons and all.
    expect(body.kept).toEqual(
      COMBINED_POLICY_KEEPS.map(([s, reasons]) => ({ backup_file: `${s}.tar.gz`, reasons })),
    );
    const deleted = stored.filter((b) => !KEPT_STAMPS.includes(b.backupFile.slice(0, 15)));
    expect(body.count_deleted).toBe(deleted.length);
    const withExtras = body.deleted.find(
      (d: { backup_file: string }) => d.backup_file === `${DELETED_STAMP}.tar.gz`,
    );
    expect(withExtras.keys.sort()).toEqual(
      [
        `backups/tenant-a/${DELETED_STAMP}.tar.gz`,
        `backups/tenant-a/${DELETED_STAMP}.bundle`,
        `backups/tenant-a/notifications/${DELETED_STAMP}-0123abcd.json`,
        stored.find((b) => b.backupFile.startsWith(DELETED_STAMP))!.notificationKey,
        `backups/tenant-a/metadata/${DELETED_STAMP}.tar.gz.json`,
      ].sort(),
    );

    // What awscli sees: exactly the deleted backups' objects are gone.
    const gone = deleted.flatMap((b) => [b.archiveKey, b.recordKey, b.notificationKey!]);
    gone.push(
      `backups/tenant-a/${DELETED_STAMP}.bundle`,
      `backups/tenant-a/notifications/${DELETED_STAMP}-0123abcd.json`,
    );
    expect(await keysOf(stack, A_BUCKET)).toEqual(before.filter((key) => !gone.includes(key)));
    // And what stays includes every object of the kept backups and the unrelated ones.
    const after = await keysOf(stack, A_BUCKET);
    for (const b of stored.filter((s) => !deleted.includes(s))) {
      expect(after).toEqual(expect.arrayContaining([b.archiveKey, b.recordKey, b.notificationKey]));
    }
    expect(after).toEqual(
      expect.arrayContaining([
        ORPHAN_KEY,
        unrelatedNotification,
        `backups/tenant-a/${KEPT_STAMP}.bundle`,
        `backups/tenant-a/notifications/${KEPT_STAMP}-0123abcd.json`,
        `backups/tenant-a/notifications/${DELETED_STAMP}-4567cdef.json`,
        'backups/tenant-b/metadata/20260103-120000.tar.gz.json',
      ]),
    );
    // Pruning again with the same policy finds nothing more to delete.
    const again = await readJson(await prune(asA, { tenant: 'tenant-a', bucket: A_BUCKET, ...POLICY }));
    expect([again.count_kept, again.count_deleted]).toEqual([KEPT_STAMPS.length, 0]);
  });

  test('the newest run survives keep_last 1 even when an older one sorts later by name', async () => {
    // "-2" sorts before ".tar", so by name 20260101-100000.tar.gz looks newer than its second run.
    for (const backupFile of [
      '20251231-100000.tar.gz',
      '20260101-100000.tar.gz',
      '20260101-100000-2.tar.gz',
    ]) {
      await storeBackup(admin, { tenant: 'runs', bucket: 'my-bucket', backupFile });
    }
    const body = await readJson(await prune(admin, { tenant: 'runs', bucket: 'my-bucket', keep_last: 1 }));
    expect(body.kept).toEqual([{ backup_file: '20260101-100000-2.tar.gz', reasons: ['newest', 'last'] }]);
    expect(await keysOf(stack, 'my-bucket')).toEqual(
      expect.arrayContaining([
        'backups/runs/20260101-100000-2.tar.gz',
        'backups/runs/metadata/20260101-100000-2.tar.gz.json',
      ]),
    );
    expect((await keysOf(stack, 'my-bucket')).filter((k) => k.startsWith('backups/runs/'))).toHaveLength(3);
  });

  test('the newest backup that has its archive is kept when a newer run never uploaded', async () => {
    await storeBackup(admin, {
      tenant: 'failed-run',
      bucket: 'my-bucket',
      backupFile: '20260101-100000.tar.gz',
    });
    await storeBackup(admin, {
      tenant: 'failed-run',
      bucket: 'my-bucket',
      backupFile: '20260102-100000.tar.gz',
    });
    await storeBackup(admin, {
      tenant: 'failed-run',
      bucket: 'my-bucket',
      backupFile: '20260103-100000.tar.gz',
      archive: null,
    });
    const body = await readJson(
      await prune(admin, { tenant: 'failed-run', bucket: 'my-bucket', keep_last: 1 }),
    );
    expect(body.kept).toEqual([
      { backup_file: '20260103-100000.tar.gz', reasons: ['newest', 'last'] },
      { backup_file: '20260102-100000.tar.gz', reasons: ['newest with archive'] },
    ]);
    expect(body.deleted.map((d: { backup_file: string }) => d.backup_file)).toEqual([
      '20260101-100000.tar.gz',
    ]);
  });

  test('notifications of no backup go once they are older than the oldest backup kept', async () => {
    const tenant = 'failures';
    for (const backupFile of days(3, '20260110')) {
      await storeBackup(admin, { tenant, bucket: 'my-bucket', backupFile });
    }
    const folder = `backups/${tenant}/notifications`;
    const failure = (stamp: string, suffix: string) => ({
      key: `${folder}/${stamp}-${suffix}.json`,
      body: JSON.stringify({ tenant, status: 'failure', message: 'the upload failed' }),
    });
    // keep_last 1 keeps 20260112-120000 only: failures before it go, the later one stays, and an
    // old-style notification named by the kept backup's own stamp stays with it.
    const old = [failure('20251231-230000', '0000aaaa'), failure('20260111-080000', '1111bbbb')];
    const recent = failure('20260112-130000', '2222cccc');
    const ownOldStyle = {
      key: `${folder}/20260112-120000-3333dddd.json`,
      body: JSON.stringify({ tenant, status: 'success', backup_file: '20260112-120000.tar.gz' }),
    };
    for (const { key, body } of [...old, recent, ownOldStyle]) await plant(stack, 'my-bucket', key, body);
    const keys = async () => (await keysOf(stack, 'my-bucket')).filter((k) => k.startsWith(`${folder}/`));
    const before = await keys();

    const dry = await readJson(
      await prune(admin, { tenant, bucket: 'my-bucket', keep_last: 1, dry_run: true }),
    );
    expect(dry.deleted_notifications.sort()).toEqual(old.map((n) => n.key).sort());
    expect(await keys()).toEqual(before);

    const body = await readJson(await prune(admin, { tenant, bucket: 'my-bucket', keep_last: 1 }));
    expect(body.kept.map((k: { backup_file: string }) => k.backup_file)).toEqual(['20260112-120000.tar.gz']);
    expect(body.deleted_notifications.sort()).toEqual(old.map((n) => n.key).sort());
    // The pruned backups' own notifications went with them; the failures before the kept one too.
    const kept = (await keys()).filter((k) => !k.includes('20260112-120000.tar.gz.'));
    expect(kept).toEqual([ownOldStyle.key, recent.key].sort());
    expect((await keys()).filter((k) => k.includes('20260110') || k.includes('20260111'))).toEqual([]);
  });
});

describe('the retention cron', () => {
  test('applies RETENTION_POLICIES to the tenants it names, and only to them', async () => {
    // Written over S3 as the seed's workflow does: records stored through the Worker would
    // already be pruned by its policy after each record (append-only.test.ts), leaving the cron
    // nothing to do.
    const plantBackup = async (bucket: string, tenant: string, backupFile: string) => {
      await plant(stack, bucket, `backups/${tenant}/${backupFile}`, 'archive');
      const record = { tenant, bucket, backup_file: backupFile, repo: `acme/${tenant}`, branch: 'main' };
      await plant(stack, bucket, `backups/${tenant}/metadata/${backupFile}.json`, JSON.stringify(record));
    };
    for (const backupFile of days(5)) {
      await plantBackup('my-bucket', 'cron-tenant', backupFile);
      await storeBackup(admin, { tenant: 'cron-untouched', bucket: 'my-bucket', backupFile, notify: false });
    }
    for (const backupFile of days(4, '20260110')) {
      await plantBackup('autonomous-coding-agent', 'cron-days', backupFile);
    }
    const untouched = (await keysOf(stack, 'my-bucket')).filter((k) =>
      k.startsWith('backups/cron-untouched/'),
    );

    const response = await fetch(`${stack.url}/__scheduled?cron=${encodeURIComponent('17 3 * * *')}`);
    expect(response.status).toBe(200);

    const tenantKeys = async (bucket: string, tenant: string) =>
      (await keysOf(stack, bucket)).filter((k) => k.startsWith(`backups/${tenant}/`));
    expect(await tenantKeys('my-bucket', 'cron-tenant')).toEqual(
      ['20260104-120000.tar.gz', '20260105-120000.tar.gz']
        .flatMap((f) => [`backups/cron-tenant/${f}`, `backups/cron-tenant/metadata/${f}.json`])
        .sort(),
    );
    // keep_days 2 counts back from the newest backup: 01-13 and 01-12.
    expect(await tenantKeys('autonomous-coding-agent', 'cron-days')).toEqual(
      ['20260112-120000.tar.gz', '20260113-120000.tar.gz']
        .flatMap((f) => [`backups/cron-days/${f}`, `backups/cron-days/metadata/${f}.json`])
        .sort(),
    );
    expect(await tenantKeys('my-bucket', 'cron-untouched')).toEqual(untouched);
    // One summary line per tenant, with no token in the log.
    expect(stack.output()).toContain('retention my-bucket/cron-tenant: kept 2, deleted 3');
    expect(stack.output()).toContain('retention autonomous-coding-agent/cron-days: kept 2, deleted 2');
    expect(stack.output()).not.toContain(adminToken);
  });
});
