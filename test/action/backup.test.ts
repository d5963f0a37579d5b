// The action end to end, as the runner calls it, against the Worker in workerd and the local
// R2 S3 endpoint: what lands in R2 is downloaded with awscli, extracted with GNU tar and
// compared with the source; the metadata is checked against the object.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { clockStartingAt } from '../helpers/test-clock.js';
import { snapshotTree } from '../helpers/tree.js';
import {
  COMMIT,
  SEED_EXCLUDES,
  aws,
  downloadAndExtract,
  excludedBy,
  listKeys,
  makeFixtureTree,
  runAction,
  s3Inputs,
  type RunResult,
} from './helpers.js';

const MIB = 1024 * 1024;
const TOKEN = sharedStackToken();
let stack: LocalStack;
let tree: string;

beforeAll(async () => {
  stack = await sharedStack();
  // Larger than two 5 MiB parts, incompressible: the upload is a real multipart upload.
  tree = makeFixtureTree(11 * MIB + 12345);
});
afterAll(async () => {
  if (tree) rmSync(tree, { recursive: true, force: true });
});

const apiInputs = (): Record<string, string> => ({ 'api-url': stack.url, 'api-token': TOKEN });

async function workerGet(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** Checks everything a successful run must leave: object, tree, metadata, outputs, summary. */
async function expectGoodBackup(run: RunResult, tenant: string, bucket: string, extension: string) {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const key = run.outputs['backup-key']!;
  expect(key).toMatch(new RegExp(`^backups/${tenant}/\\d{8}-\\d{6}(-\\d+)?\\${extension}$`));
  expect(run.outputs).toMatchObject({ tenant, bucket, 'backup-file': key.split('/').pop() });

  const { file, dir } = await downloadAndExtract(stack, bucket, key);
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  expect(run.outputs.size).toBe(String(bytes.length));
  expect(run.outputs.sha256).toBe(sha256);
  expect(snapshotTree(dir)).toEqual(snapshotTree(tree, excludedBy(SEED_EXCLUDES)));

  // The size in S3's own listing, by awscli.
  const head = JSON.parse(await aws(stack, 's3api', 'head-object', '--bucket', bucket, '--key', key)) as {
    ContentLength: number;
    ETag: string;
  };
  expect(head.ContentLength).toBe(bytes.length);
  // More than two parts of 5 MiB: a real multipart upload (R2's etag ends in -<parts>).
  expect(head.ETag).toMatch(/-[3-9]"$/);

  // The record, through the Worker and as stored (awscli).
  const backupFile = run.outputs['backup-file']!;
  const viaWorker = (await workerGet(`/api/github/backup/${tenant}/${backupFile}?bucket=${bucket}`))
    .metadata as Record<string, unknown>;
  const stored = JSON.parse(
    await aws(stack, 's3', 'cp', `s3://${bucket}/backups/${tenant}/metadata/${backupFile}.json`, '-'),
  ) as Record<string, unknown>;
  for (const record of [viaWorker, stored]) {
    expect(record).toMatchObject({
      tenant,
      bucket,
      key,
      backup_file: backupFile,
      size: bytes.length,
      sha256,
      commit: COMMIT,
      branch: 'main',
      action: 'upload',
      actor: 'octocat',
      run_id: '4242',
      excludes: SEED_EXCLUDES,
      action_version: JSON.parse(readFileSync('package.json', 'utf8')).version,
    });
    expect(record.file_count).toBe(Number(run.outputs['file-count']));
    expect(record.duration_ms).toBe(Number(run.outputs['duration-ms']));
  }
  // A success notification.
  const notes = await listKeys(stack, bucket, `backups/${tenant}/notifications/`);
  const bodies = await Promise.all(notes.map((k) => aws(stack, 's3', 'cp', `s3://${bucket}/${k}`, '-')));
  expect(bodies.map((b) => JSON.parse(b))).toContainEqual(
    expect.objectContaining({ status: 'success', backup_file: backupFile }),
  );

  expect(run.summary).toContain(key);
  expect(run.summary).toContain(sha256);
  expect(run.summary).toMatch(/Throughput/);
  // Secrets only ever reach the runner as mask commands, never in the log.
  const log = (run.stdout + run.stderr).replace(/^::add-mask::.*$/gm, '');
  expect(log).not.toContain(TOKEN);
  expect(log).not.toContain('local-dev-secret');
  expect(run.stdout).toContain(`::add-mask::${TOKEN}`);
  return { key, backupFile, sha256, size: bytes.length };
}

test('push: the tree minus the seed excludes lands in R2 over S3, recorded by the Worker', async () => {
  const run = await runAction({
    event: 'push',
    inputs: {
      path: tree,
      ...s3Inputs(stack),
      ...apiInputs(),
      'part-size-mib': '5',
      'bucket-map': 'autonomous-coding-agent: autonomous-coding-agent',
    },
  });
  const backup = await expectGoodBackup(run, 'autonomous-coding-agent', 'autonomous-coding-agent', '.tar.gz');
  expect(Number(run.outputs['file-count'])).toBeGreaterThan(10);
  // Listed through the Worker.
  const list = await workerGet(
    '/api/github/backup/list?tenant=autonomous-coding-agent&bucket=autonomous-coding-agent',
  );
  expect((list.backups as { key: string }[]).map((b) => b.key)).toContain(backup.key);
});

const SEED_MAP = [
  'meauxbility: meauxbilitygithubconnect',
  'meauxbility.org: meauxbilitygithubconnect',
  'inneranimalmedia-app-library: inneranimalmedia-assets',
  'autonomous-coding-agent: autonomous-coding-agent',
].join('\n');

test('workflow_dispatch: the tenant input of the dispatch picks the bucket through bucket-map (zstd)', async () => {
  const run = await runAction({
    event: 'workflow_dispatch',
    payload: { ref: 'refs/heads/main', inputs: { tenant: 'meauxbility.org', bucket: '' } },
    inputs: {
      path: tree,
      ...s3Inputs(stack),
      ...apiInputs(),
      'part-size-mib': '5',
      compression: 'zstd',
      'bucket-map': SEED_MAP,
    },
  });
  await expectGoodBackup(run, 'meauxbility.org', 'meauxbilitygithubconnect', '.tar.zst');
  expect(run.stdout).toContain('from the workflow_dispatch input tenant');
});

test('repository_dispatch: client_payload.tenant, default bucket {tenant}-github-backup, no compression', async () => {
  const run = await runAction({
    event: 'repository_dispatch',
    payload: { action: 'backup-request', client_payload: { tenant: 'tenant-a' } },
    inputs: {
      path: tree,
      ...s3Inputs(stack),
      ...apiInputs(),
      'part-size-mib': '5',
      compression: 'none',
      'bucket-map': SEED_MAP,
    },
  });
  await expectGoodBackup(run, 'tenant-a', 'tenant-a-github-backup', '.tar');
  expect(run.stdout).toContain('from client_payload.tenant');
});

test('without S3 keys the archive goes through the Worker upload route, in equal parts', async () => {
  const run = await runAction({
    event: 'push',
    repository: 'octo-org/tenant-b',
    inputs: { path: tree, ...apiInputs(), 'part-size-mib': '5' },
  });
  await expectGoodBackup(run, 'tenant-b', 'tenant-b-github-backup', '.tar.gz');
  expect(run.stdout).toContain('the Worker at');
});

test('two runs started in the same second both keep their backups', async () => {
  // Started concurrently, both clocks at the start of this second: the same second for both.
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const inputs = {
    path: tree,
    ...s3Inputs(stack),
    ...apiInputs(),
    'part-size-mib': '5',
    tenant: 'same-second',
    bucket: 'my-bucket',
  };
  const runs = await Promise.all([0, 1].map(() => runAction({ inputs, env: clockStartingAt(now) })));
  const backups = [];
  for (const run of runs) backups.push(await expectGoodBackup(run, 'same-second', 'my-bucket', '.tar.gz'));
  const files = backups.map((b) => b.backupFile).sort();
  const stamp = files[0]!.slice(0, 15);
  expect(files).toEqual([`${stamp}-2.tar.gz`, `${stamp}.tar.gz`]);
  const keys = await listKeys(stack, 'my-bucket', 'backups/same-second/');
  expect(keys.filter((k) => !k.includes('/metadata/') && !k.includes('/notifications/'))).toEqual(
    files.map((f) => `backups/same-second/${f}`).sort(),
  );
});
