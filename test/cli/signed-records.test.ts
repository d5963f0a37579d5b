// Records the Worker vouches for, attacked as a repository with S3 keys to a shared bucket
// would: plant a record (and archive) under another tenant's prefix, copy a genuine record
// of one tenant to another, alter a signed record. The Worker marks each `verified`,
// `unsigned` or `tampered`; restore through the Worker refuses all but `verified` unless
// --allow-unverified; verify reports them. Then key rotation, re-signing, a Worker without a
// key, and backups made by the seed's workflow (records without size or hash).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { snapshotTree } from '../helpers/tree.js';
import { COMMIT, aws, makeFixtureTree, runAction, s3Inputs } from '../action/helpers.js';
import { apiClient, newToken } from '../worker/helpers.js';
import { fullEnv, runCli, workerEnv } from './helpers.js';

const ADMIN = newToken();
// Both tenants' backups in one bucket, as the seed's map does for meauxbility(.org).
const BUCKET = 'my-bucket';
let persist: string;
let stack: LocalStack;
let work: string;
let tree: string;
let genuine: { a: string; b: string };

const start = (vars: Record<string, string>) =>
  startLocalStack({ env: 'test', persistTo: persist, vars: { CLOUDCONNECT: ADMIN, ...vars } });

async function backup(tenant: string): Promise<string> {
  const run = await runAction({
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': ADMIN,
      tenant,
      bucket: BUCKET,
      path: tree,
    },
  });
  if (run.code !== 0) throw new Error(run.stdout);
  return run.outputs['backup-file']!;
}

beforeAll(async () => {
  persist = mkdtempSync(join(tmpdir(), 'signed-records-'));
  work = mkdtempSync(join(tmpdir(), 'signed-work-'));
  stack = await start({ RECORD_SIGNING_KEY: 'first-key' });
  tree = makeFixtureTree(64 * 1024);
  genuine = { a: await backup('tenant-a'), b: await backup('tenant-b') };
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  for (const dir of [persist, work, tree]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const s3 = (...args: string[]) => aws(stack, 's3', ...args, '--only-show-errors');
const s3api = async (...args: string[]) =>
  JSON.parse(await aws(stack, 's3api', ...args)) as Record<string, unknown>;
const cli = (args: string[], env = workerEnv(stack, ADMIN)) => runCli(args, env);

async function verificationOf(tenant: string, file: string): Promise<string | undefined> {
  const answer = await apiClient(stack, ADMIN)(`/api/github/backup/${tenant}/${file}?bucket=${BUCKET}`);
  return ((await answer.json()) as { metadata?: { verification?: string } }).metadata?.verification;
}

/** Copies a whole object with awscli (a client that is not ours), its custom metadata too. */
async function copyObject(from: string, to: string): Promise<void> {
  await s3api('copy-object', '--bucket', BUCKET, '--copy-source', `${BUCKET}/${from}`, '--key', to);
}

test('what the Worker stores is verified on every read route', async () => {
  expect(await verificationOf('tenant-a', genuine.a)).toBe('verified');
  const list = (await (
    await apiClient(stack, ADMIN)(`/api/github/backup/list?tenant=tenant-a&bucket=${BUCKET}`)
  ).json()) as {
    backups: { verification: string; signature: string }[];
  };
  expect(list.backups.map((b) => b.verification)).toEqual(['verified']);
  expect(list.backups[0]!.signature).toMatch(/^[0-9a-f]{64}$/);
  const latest = (await (
    await apiClient(stack, ADMIN)(`/api/github/backup/tenant-a/latest?bucket=${BUCKET}`)
  ).json()) as {
    metadata: { verification: string };
  };
  expect(latest.metadata.verification).toBe('verified');
  const listed = await cli(['list', '--tenant', 'tenant-a', '--bucket', BUCKET]);
  expect(listed.stdout).toMatch(new RegExp(`verified .*${genuine.a.replace(/\./g, '\\.')}`));
});

test("tenant-b's record copied under tenant-a is tampered, and restore refuses it", async () => {
  const planted = '20300101-000000.tar.gz';
  // The attacker copies its own genuine archive and record, signature and summary included.
  await copyObject(`backups/tenant-b/${genuine.b}`, `backups/tenant-a/${planted}`);
  await copyObject(
    `backups/tenant-b/metadata/${genuine.b}.json`,
    `backups/tenant-a/metadata/${planted}.json`,
  );
  expect(await verificationOf('tenant-a', planted)).toBe('tampered');
  const target = join(work, 'copied');
  const run = await cli([
    'restore',
    '--tenant',
    'tenant-a',
    '--bucket',
    BUCKET,
    '--latest',
    '--target',
    target,
  ]);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(
    new RegExp(`record of ${planted.replace(/\./g, '\\.')} is tampered.*--allow-unverified`),
  );
  expect(() => readFileSync(target)).toThrow();
  const verify = await cli(['verify', '--tenant', 'tenant-a', '--bucket', BUCKET]);
  expect(verify.code).toBe(1);
  expect(verify.stdout).toContain(`PROBLEM ${planted}: the record is tampered`);
  await s3('rm', `s3://${BUCKET}/backups/tenant-a/${planted}`);
  await s3('rm', `s3://${BUCKET}/backups/tenant-a/metadata/${planted}.json`);
});

test('a signed record altered over S3 is tampered', async () => {
  const key = `backups/tenant-a/metadata/${genuine.a}.json`;
  const copy = join(work, 'record.json');
  await s3('cp', `s3://${BUCKET}/${key}`, copy);
  const record = JSON.parse(readFileSync(copy, 'utf8')) as Record<string, unknown>;
  writeFileSync(copy, JSON.stringify({ ...record, commit: 'f'.repeat(40) }));
  const altered = `backups/tenant-a/metadata/20300102-000000.tar.gz.json`;
  await s3('cp', copy, `s3://${BUCKET}/${altered}`);
  // Same name as the genuine one's content otherwise: only the commit changed.
  await copyObject(
    `backups/tenant-a/metadata/${genuine.a}.json`,
    `backups/tenant-a/metadata/20300103-000000.tar.gz.json`,
  );
  expect(await verificationOf('tenant-a', '20300102-000000.tar.gz')).toBe('tampered');
  expect(await verificationOf('tenant-a', '20300103-000000.tar.gz')).toBe('tampered'); // renamed
  await s3('rm', `s3://${BUCKET}/${altered}`);
  await s3('rm', `s3://${BUCKET}/backups/tenant-a/metadata/20300103-000000.tar.gz.json`);
});

test("a planted unsigned record and a seed workflow's backup: listed, refused, restorable on request", async () => {
  // As the seed's workflow stored them: `{tenant}-{stamp}.tar.gz`, the seed's body only.
  const file = 'tenant-a-20240101-120000.tar.gz';
  const archive = join(work, file);
  const { execFileSync } = await import('node:child_process');
  execFileSync('tar', ['-czf', archive, '-C', tree, '.']);
  await s3('cp', archive, `s3://${BUCKET}/backups/tenant-a/${file}`);
  const seedRecord = join(work, 'seed.json');
  writeFileSync(
    seedRecord,
    JSON.stringify({
      tenant: 'tenant-a',
      bucket: BUCKET,
      repo: 'octo-org/tenant-a',
      branch: 'main',
      commit: COMMIT,
      backup_file: file,
      action: 'upload',
    }),
  );
  await s3('cp', seedRecord, `s3://${BUCKET}/backups/tenant-a/metadata/${file}.json`);

  expect(await verificationOf('tenant-a', file)).toBe('unsigned');
  const listed = await cli(['list', '--tenant', 'tenant-a', '--bucket', BUCKET]);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(
    /2024-01-01 12:00:00 .*unverifiable\s+unsigned\s+-\s+tenant-a-20240101-120000\.tar\.gz/,
  );

  const refused = await cli([
    'restore',
    '--tenant',
    'tenant-a',
    '--bucket',
    BUCKET,
    '--backup',
    file,
    '--target',
    join(work, 'seed-refused'),
  ]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/is unsigned: the Worker did not write it.*--allow-unverified/);

  const target = join(work, 'seed-restored');
  const allowed = await cli(
    [
      'restore',
      '--tenant',
      'tenant-a',
      '--bucket',
      BUCKET,
      '--backup',
      file,
      '--target',
      target,
      '--allow-unverified',
    ],
    fullEnv(stack, ADMIN),
  );
  expect(allowed.code).toBe(0);
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
  expect(allowed.stdout).toContain(`sha256 ${sha256} computed (the record has none to compare)`);
  expect(allowed.stderr).toMatch(/Warning: The record of .* is unsigned/);
  expect(snapshotTree(target)).toEqual(snapshotTree(tree));

  const verify = await cli(['verify', '--tenant', 'tenant-a', '--bucket', BUCKET]);
  expect(verify.code).toBe(0);
  expect(verify.stdout).toContain(`${file}: unverifiable (the Worker did not sign the record`);
  const strict = await cli(['verify', '--tenant', 'tenant-a', '--bucket', BUCKET, '--strict']);
  expect(strict.code).toBe(1);
  expect(strict.stdout).toContain(`PROBLEM ${file}: unverifiable`);

  // The restore sub-action refuses it too, and takes it with allow-unverified.
  const step = await runAction({
    script: 'dist/restore/index.js',
    inputs: {
      'api-url': stack.url,
      'api-token': ADMIN,
      tenant: 'tenant-a',
      bucket: BUCKET,
      backup: file,
      target: join(work, 'step'),
    },
  });
  expect(step.code).not.toBe(0);
  expect(step.stdout).toMatch(/is unsigned/);
  // In the sub-action's own terms, not the CLI's.
  expect(step.stdout).toContain('Not restored; allow-unverified: true restores it anyway.');
  expect(step.stdout).not.toContain('--allow-unverified');
  await s3('rm', `s3://${BUCKET}/backups/tenant-a/${file}`);
  await s3('rm', `s3://${BUCKET}/backups/tenant-a/metadata/${file}.json`);
});

test('with R2 keys alone, restore says in one line that records cannot be checked', async () => {
  const s3Only = Object.fromEntries(
    Object.entries(fullEnv(stack, ADMIN)).filter(([name]) => !name.startsWith('R2_BACKUP_API')),
  );
  const run = await runCli(
    ['restore', '--tenant', 'tenant-a', '--bucket', BUCKET, '--latest', '--target', join(work, 's3-only')],
    s3Only,
  );
  expect(run.code).toBe(0);
  expect(run.stderr.match(/signatures cannot be checked/g)).toHaveLength(1);
});

test('key rotation: the previous key verifies until re-signed; a Worker without a key refuses', async () => {
  await stack.stop();
  stack = await start({ RECORD_SIGNING_KEY: 'second-key', RECORD_SIGNING_KEY_PREVIOUS: 'first-key' });
  expect(await verificationOf('tenant-a', genuine.a)).toBe('verified');
  const first = await apiClient(stack, ADMIN).post('/api/github/backup/resign', {
    bucket: BUCKET,
    tenant: 'tenant-a',
  });
  expect(first.status).toBe(200);
  expect(await first.json()).toMatchObject({ resigned: 1, current: 0, tampered: 0 });
  const again = await apiClient(stack, ADMIN).post('/api/github/backup/resign', { bucket: BUCKET });
  expect(await again.json()).toMatchObject({ resigned: 1, current: 1 }); // tenant-b's, then none

  await stack.stop();
  stack = await start({ RECORD_SIGNING_KEY: 'second-key' });
  expect(await verificationOf('tenant-a', genuine.a)).toBe('verified');
  expect(await verificationOf('tenant-b', genuine.b)).toBe('verified');

  await stack.stop();
  stack = await start({ RECORD_SIGNING_KEY: 'someone-elses-key' });
  expect(await verificationOf('tenant-a', genuine.a)).toBe('tampered');

  await stack.stop();
  stack = await start({ RECORD_SIGNING_KEY: '' });
  const refused = await apiClient(stack, ADMIN).post('/api/github/backup', {
    tenant: 'tenant-a',
    bucket: BUCKET,
    repo: 'octo-org/tenant-a',
    branch: 'main',
    commit: COMMIT,
    backup_file: '20300104-000000.tar.gz',
    action: 'upload',
  });
  expect(refused.status).toBe(500);
  expect(await refused.json()).toMatchObject({
    error: expect.stringMatching(/Worker misconfigured: RECORD_SIGNING_KEY is not set/),
  });
}, 120_000);
