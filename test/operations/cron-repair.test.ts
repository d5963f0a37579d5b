// The cron's catalogue repair (worker/src/repair.ts): an archive a run stored without a record
// (no api-url) is left while younger than REPAIR_AFTER_MINUTES, then recorded by the cron from
// its object metadata (hashing the object when its metadata has no SHA-256), signed and marked
// repaired; hostile metadata is refused and logged; claims and objects not written by the
// action are left alone.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { COMMIT, aws, listKeys, makeFixtureTree, runAction, s3Inputs } from '../action/helpers.js';
import { fullEnv, runCli } from '../cli/helpers.js';
import { newToken } from '../worker/helpers.js';

const BUCKET = 'my-bucket';
const TOKEN = newToken();
const REPAIR_AFTER_SECONDS = 20;
let stack: LocalStack;
let tree: string;
const dirs: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    env: 'test',
    testScheduled: true,
    vars: { CLOUDCONNECT: TOKEN, REPAIR_AFTER_MINUTES: String(REPAIR_AFTER_SECONDS / 60) },
  });
  tree = makeFixtureTree(32 * 1024);
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  for (const dir of [tree, ...dirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const cron = async (): Promise<void> => {
  expect((await fetch(`${stack.url}/__scheduled?cron=${encodeURIComponent('17 3 * * *')}`)).status).toBe(200);
};
const metadataKeys = (tenant: string) => listKeys(stack, BUCKET, `backups/${tenant}/metadata/`);

async function plant(tenant: string, file: string, metadata: Record<string, string>, body: string) {
  const dir = mkdtempSync(join(tmpdir(), 'r2-backup-plant-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'body'), body);
  const pairs = Object.entries(metadata)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  await aws(
    stack,
    's3api',
    'put-object',
    '--bucket',
    BUCKET,
    '--key',
    `backups/${tenant}/${file}`,
    '--body',
    join(dir, 'body'),
    ...(pairs ? ['--metadata', pairs] : []),
  );
}

test('the cron records an unrecorded archive once it has settled, and refuses hostile metadata', async () => {
  const tenant = 'cron-repaired';
  const good = {
    'r2-backup-commit': COMMIT,
    'r2-backup-branch': 'main',
    'r2-backup-repo': 'octo-org%2Fapp',
    'r2-backup-compression': 'none',
    'r2-backup-sha256': 'a'.repeat(64),
  };
  await plant(tenant, '20250101-000001.tar', { ...good, 'r2-backup-commit': 'not-hex' }, 'x'.repeat(10));
  await plant(tenant, '20250101-000002.tar', { ...good, 'r2-backup-size': '11' }, 'x'.repeat(10));
  await plant(tenant, '20250101-000003.tar', { 'r2-backup-state': 'uploading', 'r2-backup-claim': 'r' }, '');
  await plant(
    tenant,
    '20250101-000004.tar',
    Object.fromEntries(Object.entries(good).filter(([name]) => name !== 'r2-backup-sha256')),
    'x'.repeat(10),
  );
  await plant(tenant, '20250101-000005.tar', {}, 'x'.repeat(10));

  const run = await runAction({ inputs: { ...s3Inputs(stack), tenant, bucket: BUCKET, path: tree } });
  expect(run.code).toBe(0);
  const stored = Date.now();
  const file = run.outputs['backup-file']!;
  // Too young: a running backup's record may be on its way.
  await cron();
  expect(await metadataKeys(tenant)).toEqual([]);

  await new Promise((r) =>
    setTimeout(r, Math.max(0, stored + (REPAIR_AFTER_SECONDS + 2) * 1000 - Date.now())),
  );
  await cron();
  expect(await metadataKeys(tenant)).toEqual([
    `backups/${tenant}/metadata/20250101-000004.tar.json`,
    `backups/${tenant}/metadata/${file}.json`,
  ]);
  const record = JSON.parse(
    await aws(stack, 's3', 'cp', `s3://${BUCKET}/backups/${tenant}/metadata/${file}.json`, '-'),
  ) as Record<string, unknown>;
  expect(record).toMatchObject({
    recorded_by: 'repair',
    principal: 'cron-repair',
    commit: COMMIT,
    size: Number(run.outputs.size),
    sha256: run.outputs.sha256,
  });
  expect(stack.output()).toContain(`repair ${BUCKET}/${tenant}: recorded 20250101-000004.tar, ${file}`);
  expect(stack.output()).toMatch(
    /refused 20250101-000001\.tar: its object metadata r2-backup-commit must be a full commit id/,
  );
  expect(stack.output()).toMatch(
    /refused 20250101-000002\.tar: its object metadata r2-backup-size says 11 bytes, but the object holds 10/,
  );

  // The Worker vouches for the record; the planted objects are still unrecorded archives.
  const verify = await runCli(['verify', '--tenant', tenant, '--bucket', BUCKET], fullEnv(stack, TOKEN));
  expect(verify.stdout).toContain(`${file}: recorded after the fact (recorded_by: repair)`);
  expect(verify.stdout).not.toContain(`PROBLEM ${file}`);
  // No SHA-256 in its metadata (as a multipart upload's): the cron read the object to hash it.
  const hashed = JSON.parse(
    await aws(stack, 's3', 'cp', `s3://${BUCKET}/backups/${tenant}/metadata/20250101-000004.tar.json`, '-'),
  ) as Record<string, unknown>;
  expect(hashed).toMatchObject({
    sha256: createHash('sha256').update('x'.repeat(10)).digest('hex'),
    size: 10,
  });
  for (const planted of ['000001', '000002', '000005'])
    expect(verify.stdout).toContain(`PROBLEM 20250101-${planted}.tar: the archive has no record`);
  const list = await runCli(['list', '--tenant', tenant, '--bucket', BUCKET], fullEnv(stack, TOKEN));
  expect(list.stdout).toMatch(new RegExp(`verified, repaired .*${file.replace(/\./g, '\\.')}`));
}, 180_000);
