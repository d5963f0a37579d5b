// A repository named with upper case and a dot, `octo-org/MyRepo.js`, backs up with no tenant or
// bucket input: its tenant is `MyRepo.js`, its bucket `myrepo-js-github-backup`
// (common/naming.ts defaultBucket). The action (`node dist/index.js`, through the Worker's
// upload route with a tenant token that names no bucket), the Worker's default grant for that
// token, the CLI (`list`, `restore` with --tenant alone) and the restore sub-action all reach
// that one bucket. Before, the Worker granted `MyRepo.js-github-backup` (no valid bucket name,
// so 403 on the bucket the action wrote) and the CLI refused --tenant MyRepo.js.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { snapshotTree } from '../helpers/tree.js';
import {
  SEED_EXCLUDES,
  excludedBy,
  listKeys,
  makeFixtureTree,
  runAction,
  type RunResult,
} from '../action/helpers.js';
import { apiClient, newToken, readJson } from '../worker/helpers.js';
import { runCli, workerEnv } from './helpers.js';

const REPOSITORY = 'octo-org/MyRepo.js';
const TENANT = 'MyRepo.js';
const BUCKET = 'myrepo-js-github-backup';
const ADMIN = newToken();
const tenantToken = createTenantToken([TENANT]); // no buckets: the Worker's default grant
const otherToken = createTenantToken(['tenant-a']);
let stack: LocalStack;
let tree: string;
let work: string;
let backup: RunResult;

beforeAll(async () => {
  stack = await startLocalStack({
    env: 'test',
    vars: {
      CLOUDCONNECT: ADMIN,
      TENANT_TOKENS: `{${[tenantToken, otherToken].map((t) => t.configEntry).join(',')}}`,
    },
  });
  tree = makeFixtureTree(64 * 1024 + 3);
  work = mkdtempSync(join(tmpdir(), 'r2-backup-default-bucket-'));
  backup = await runAction({
    repository: REPOSITORY,
    inputs: { 'api-url': stack.url, 'api-token': tenantToken.token, path: tree },
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  for (const dir of [tree, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the action stores the backup in the default bucket, through the Worker with the tenant token', async () => {
  expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: '' });
  expect(backup.stdout).toContain(
    `Tenant ${TENANT} (from the repository's name), bucket ${BUCKET} (from the default {tenant}-github-backup)`,
  );
  expect(backup.outputs).toMatchObject({ tenant: TENANT, bucket: BUCKET });
  expect(backup.outputs['backup-key']).toMatch(/^backups\/MyRepo\.js\/\d{8}-\d{6}\.tar\.gz$/);
  // Seen by an independent S3 client: the archive and the Worker's record, in that bucket.
  const file = backup.outputs['backup-file']!;
  const keys = await listKeys(stack, BUCKET, `backups/${TENANT}/`);
  expect(keys).toContain(`backups/${TENANT}/${file}`);
  expect(keys).toContain(`backups/${TENANT}/metadata/${file}.json`);
});

test("the Worker's default grant: the tenant token lists its own bucket, and only that", async () => {
  const api = apiClient(stack, tenantToken.token);
  const own = await api(`/api/github/backup/list?tenant=${encodeURIComponent(TENANT)}&bucket=${BUCKET}`);
  expect(own.status).toBe(200);
  expect((await readJson(own)).backups.map((b: { backup_file: string }) => b.backup_file)).toEqual([
    backup.outputs['backup-file'],
  ]);
  // The raw tenant is no bucket name; another tenant's default bucket is not granted.
  const raw = await api(
    `/api/github/backup/list?tenant=${encodeURIComponent(TENANT)}&bucket=MyRepo.js-github-backup`,
  );
  expect(raw.status).toBe(400);
  const other = await api(
    `/api/github/backup/list?tenant=${encodeURIComponent(TENANT)}&bucket=tenant-a-github-backup`,
  );
  expect(other.status).toBe(403);
  // And another tenant's token does not reach this bucket.
  const stranger = apiClient(stack, otherToken.token);
  const foreign = await stranger(
    `/api/github/backup/list?tenant=${encodeURIComponent(TENANT)}&bucket=${BUCKET}`,
  );
  expect(foreign.status).toBe(403);
});

test('r2-backup list --tenant MyRepo.js finds the backup in the default bucket', async () => {
  const run = await runCli(['list', '--tenant', TENANT], workerEnv(stack, tenantToken.token));
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(run.stdout).toContain(backup.outputs['backup-file']);
});

test('r2-backup restore --tenant MyRepo.js restores it through the Worker', async () => {
  const target = join(work, 'cli-target');
  const run = await runCli(
    ['restore', '--tenant', TENANT, '--latest', '--target', target],
    workerEnv(stack, tenantToken.token),
  );
  expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
  expect(run.stdout).toContain(`sha256 ${backup.outputs.sha256} verified`);
  expect(snapshotTree(target)).toEqual(snapshotTree(tree, excludedBy(SEED_EXCLUDES)));
});

test('the restore sub-action restores it with no tenant or bucket input', async () => {
  const target = join(work, 'action-target');
  const run = await runAction({
    script: 'dist/restore/index.js',
    repository: REPOSITORY,
    inputs: { 'api-url': stack.url, 'api-token': tenantToken.token, target },
  });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(run.outputs).toMatchObject({
    'backup-key': backup.outputs['backup-key'],
    sha256: backup.outputs.sha256,
  });
  expect(run.summary).toContain(`(${BUCKET})`);
  expect(snapshotTree(target)).toEqual(snapshotTree(tree, excludedBy(SEED_EXCLUDES)));
});

test('a tenant whose default is no bucket name is refused, naming the bucket', async () => {
  const name = 'x'.repeat(50); // 50 + "-github-backup" is longer than R2's 63
  const run = await runAction({
    repository: `octo-org/${name}`,
    inputs: { 'api-url': stack.url, 'api-token': ADMIN, path: tree },
  });
  expect(run.code).not.toBe(0);
  expect(run.stdout).toMatch(
    /Invalid bucket \(from the default \{tenant\}-github-backup\): must be an R2 bucket name/,
  );
  const cli = await runCli(['list', '--tenant', name], workerEnv(stack, ADMIN));
  expect(cli.code).toBe(2);
  expect(cli.stderr).toMatch(/Invalid --bucket: must be an R2 bucket name/);
});
