// include-git-history end to end: a repository with branches, tags and a merge is backed up by
// `node dist/index.js`; the bundle is checked with git and awscli; a branch deleted afterwards
// comes back with `r2-backup restore --history`, every ref equal to the original.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { aws, listKeys, runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { apiClient } from '../worker/helpers.js';
import { fullEnv, runCli, workerEnv } from '../cli/helpers.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const BUCKET = 'tenant-a-github-backup';
let stack: LocalStack;
let work: string;
let repo: string;
let refsBefore: string;
let backup: RunResult;

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (
    await exec('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
      cwd,
      env: {
        ...process.env,
        GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
        GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
      },
    })
  ).stdout.trim();
const refsOf = (dir: string) => git(dir, 'for-each-ref', '--format=%(objectname) %(refname)');

/** main with a merge of `feature`, a `doomed` branch, a lightweight and an annotated tag. */
async function makeRepository(dir: string): Promise<void> {
  mkdirSync(dir);
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  const commit = async (file: string, text: string) => {
    writeFileSync(join(dir, file), text);
    await git(dir, 'add', file);
    await git(dir, 'commit', '--quiet', '-m', `${file}: ${text}`);
  };
  await commit('a.txt', 'one');
  await git(dir, 'checkout', '--quiet', '-b', 'feature');
  await commit('b.txt', 'feature work');
  await git(dir, 'checkout', '--quiet', 'main');
  await commit('a.txt', 'two');
  await git(dir, 'merge', '--quiet', '--no-ff', '-m', 'merge feature', 'feature');
  await git(dir, 'tag', 'v1');
  await git(dir, 'tag', '-a', 'v2', '-m', 'release two');
  await git(dir, 'checkout', '--quiet', '-b', 'doomed');
  await commit('c.txt', 'only on doomed');
  await git(dir, 'checkout', '--quiet', 'main');
}

const backupInputs = (path: string, extra: Record<string, string> = {}): Record<string, string> => ({
  ...s3Inputs(stack),
  'api-url': stack.url,
  'api-token': TOKEN,
  tenant: 'tenant-a',
  path,
  'include-git-history': 'true',
  ...extra,
});
const runBackup = async (path: string, extra: Record<string, string> = {}) =>
  runAction({ inputs: backupInputs(path, extra), env: { GITHUB_SHA: await git(path, 'rev-parse', 'HEAD') } });
const metadataOf = async (file: string) =>
  JSON.parse(
    await aws(stack, 's3', 'cp', `s3://${BUCKET}/backups/tenant-a/metadata/${file}.json`, '-'),
  ) as Record<string, unknown>;

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-history-'));
  repo = join(work, 'repo');
  await makeRepository(repo);
  refsBefore = await refsOf(repo);
  backup = await runBackup(repo);
  if (backup.code !== 0) throw new Error(backup.stdout);
}, 60_000);
afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the bundle is stored beside the archive, whole, and recorded in the same metadata', async () => {
  const { outputs } = backup;
  expect(outputs['bundle-key']).toBe(outputs['backup-key']!.replace(/\.tar\.gz$/, '.bundle'));
  const file = join(work, 'stored.bundle');
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${outputs['bundle-key']}`, file, '--only-show-errors');
  const bytes = readFileSync(file);
  expect(String(bytes.length)).toBe(outputs['bundle-size']);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(outputs['bundle-sha256']);
  await git(repo, 'bundle', 'verify', '--quiet', file);
  const heads = await git(repo, 'bundle', 'list-heads', file);
  for (const line of refsBefore.split('\n')) expect(heads).toContain(line);
  expect(await metadataOf(outputs['backup-file']!)).toMatchObject({
    bundle_key: outputs['bundle-key'],
    bundle_size: bytes.length,
    bundle_sha256: outputs['bundle-sha256'],
    bundle_shallow: false,
  });
  expect(backup.summary).toMatch(/Git history/);
});

test('a branch deleted after the backup comes back: every ref equal, over S3 and through the Worker', async () => {
  await git(repo, 'branch', '-D', 'doomed');
  expect(await refsOf(repo)).not.toContain('refs/heads/doomed');
  for (const env of [fullEnv(stack, TOKEN), workerEnv(stack, TOKEN)]) {
    const target = mkdtempSync(join(work, 'restored-'));
    const run = await runCli(
      ['restore', '--tenant', 'tenant-a', '--latest', '--history', '--target', target],
      env,
    );
    expect(run.stderr + run.stdout).toMatch(/Restored the git history .* refs, HEAD main at [0-9a-f]{40}/);
    expect(run.code).toBe(0);
    expect(await refsOf(target)).toBe(refsBefore);
    expect(await git(target, 'rev-parse', 'HEAD')).toBe(await git(repo, 'rev-parse', 'main'));
    expect(await git(target, 'status', '--porcelain')).toBe('');
    await git(target, 'fsck', '--no-dangling');
  }
});

const restoreHistoryInputs = (
  target: string,
  extra: Record<string, string> = {},
): Record<string, string> => ({
  tenant: 'tenant-a',
  history: 'true',
  target,
  ...extra,
});

test('the restore sub-action with history: true restores the repository, over S3 and through the Worker', async () => {
  const refs = refsBefore.split('\n').length;
  for (const credentials of [
    { ...s3Inputs(stack), 'api-url': stack.url, 'api-token': TOKEN },
    { 'api-url': stack.url, 'api-token': TOKEN },
  ]) {
    const target = join(mkdtempSync(join(work, 'sub-action-')), 'repo');
    const run = await runAction({
      script: 'dist/restore/index.js',
      inputs: restoreHistoryInputs(target, credentials),
    });
    expect(run.stdout).toMatch(/Restored the git history .* refs, HEAD main at [0-9a-f]{40}/);
    expect(run.code).toBe(0);
    expect(await refsOf(target)).toBe(refsBefore);
    expect(await git(target, 'rev-parse', 'HEAD')).toBe(await git(repo, 'rev-parse', 'main'));
    expect(await git(target, 'log', '--format=%s', '-1')).toBe('merge feature');
    expect(await git(target, 'branch', '--show-current')).toBe('main');
    expect(await git(target, 'status', '--porcelain')).toBe('');
    await git(target, 'fsck', '--no-dangling');
    expect(run.outputs).toEqual({
      'backup-file': backup.outputs['backup-file'],
      commit: await git(repo, 'rev-parse', 'main'),
      target,
      'bundle-key': backup.outputs['bundle-key'],
      'bundle-sha256': backup.outputs['bundle-sha256'],
      'bundle-size': backup.outputs['bundle-size'],
      refs: String(refs),
      'head-commit': await git(repo, 'rev-parse', 'main'),
      'head-branch': 'main',
    });
    expect(run.summary).toContain(`<code>${backup.outputs['bundle-key']}</code>`);
    expect(run.summary).toMatch(/Git history.*SHA-256 verified.*Refs.*HEAD/s);
  }
});

test('list and verify cover the bundle; a missing or corrupted bundle is found and refused', async () => {
  const list = await runCli(['list', '--tenant', 'tenant-a'], workerEnv(stack, TOKEN));
  expect(list.stdout).toMatch(/ ok +verified +yes +\d{8}-\d{6}\.tar\.gz/);
  expect((await runCli(['verify', '--tenant', 'tenant-a', '--deep'], fullEnv(stack, TOKEN))).code).toBe(0);

  const key = backup.outputs['bundle-key']!;
  const file = join(work, 'corrupt.bundle');
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, file, '--only-show-errors');
  const bytes = readFileSync(file);
  bytes[bytes.length - 30]! ^= 0xff;
  writeFileSync(file, bytes);
  await aws(stack, 's3', 'cp', file, `s3://${BUCKET}/${key}`, '--only-show-errors');
  const target = mkdtempSync(join(work, 'kept-'));
  writeFileSync(join(target, 'mine.txt'), 'untouched\n');
  const run = await runCli(
    ['restore', '--tenant', 'tenant-a', '--latest', '--history', '--force', '--target', target],
    fullEnv(stack, TOKEN),
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/git bundle does not match its metadata/);
  expect(readFileSync(join(target, 'mine.txt'), 'utf8')).toBe('untouched\n');
  const deep = await runCli(['verify', '--tenant', 'tenant-a', '--deep'], fullEnv(stack, TOKEN));
  expect(deep.code).toBe(1);
  expect(deep.stdout).toContain(`PROBLEM ${key}: SHA-256`);

  await aws(stack, 's3', 'rm', `s3://${BUCKET}/${key}`);
  const missing = await runCli(['verify', '--tenant', 'tenant-a'], workerEnv(stack, TOKEN));
  expect(missing.code).toBe(1);
  expect(missing.stdout).toContain(`PROBLEM ${key}: the record names a bundle that is missing`);
});

test('without S3 keys the bundle goes through the Worker upload route', async () => {
  const run = await runAction({
    inputs: {
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: 'tenant-a',
      path: repo,
      'include-git-history': 'true',
    },
    env: { GITHUB_SHA: await git(repo, 'rev-parse', 'HEAD') },
  });
  expect(run.code).toBe(0);
  expect(await listKeys(stack, BUCKET, 'backups/tenant-a/')).toContain(run.outputs['bundle-key']);
});

test('a shallow checkout stops before upload with the fix, or is recorded as shallow', async () => {
  const shallow = join(work, 'shallow');
  await git(work, 'clone', '--quiet', '--depth', '1', `file://${repo}`, shallow);
  // Archives, bundles and records; a refused run leaves only its failure notification.
  const stored = async () =>
    (await listKeys(stack, BUCKET, 'backups/tenant-a/')).filter((key) => !key.includes('/notifications/'));
  const before = await stored();
  const refused = await runBackup(shallow);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toMatch(
    /::error::Invalid include-git-history: the checkout is shallow.*fetch-depth: 0/,
  );
  expect(await stored()).toEqual(before);

  const recorded = await runBackup(shallow, { 'shallow-history': 'record' });
  expect(recorded.code).toBe(0);
  expect(await metadataOf(recorded.outputs['backup-file']!)).toMatchObject({ bundle_shallow: true });
  const list = await runCli(['list', '--tenant', 'tenant-a', '--limit', '1'], workerEnv(stack, TOKEN));
  expect(list.stdout).toMatch(/ shallow +\d{8}-\d{6}(-\d+)?\.tar\.gz/);
});

test('a repository git cannot bundle whole (a missing object) leaves no bundle and fails the step', async () => {
  const broken = join(work, 'broken');
  cpSync(repo, broken, { recursive: true });
  // The fixture's objects are loose (never packed): remove one blob of the history.
  const blob = await git(broken, 'rev-parse', 'main:b.txt');
  rmSync(join(broken, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
  const bundles = async () =>
    (await listKeys(stack, BUCKET, 'backups/tenant-a/')).filter((key) => key.endsWith('.bundle'));
  const before = await bundles();
  const run = await runBackup(broken);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/::error::.*the git history bundle failed: git bundle create failed/);
  // The truncated bundle (git's header without its pack) was never completed: nothing of it stays.
  expect(await bundles()).toEqual(before);
  expect(await metadataOf(run.outputs['backup-file']!)).not.toHaveProperty('bundle_key');
});

test('a path that is no git repository stops before upload', async () => {
  const plain = mkdtempSync(join(work, 'plain-'));
  writeFileSync(join(plain, 'file.txt'), 'x');
  const run = await runAction({ inputs: backupInputs(plain) });
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/::error::Invalid include-git-history: needs a git repository/);
});

test('the Worker refuses a bundle_key that is not beside the archive', async () => {
  const response = await apiClient(stack, TOKEN).post('/api/github/backup', {
    tenant: 'tenant-a',
    bucket: BUCKET,
    repo: 'octo-org/tenant-a',
    branch: 'main',
    commit: 'a'.repeat(40),
    backup_file: '20200101-000000.tar.gz',
    action: 'upload',
    bundle_key: 'backups/tenant-a/20200101-000001.bundle',
    bundle_size: 1,
    bundle_sha256: 'b'.repeat(64),
  });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ field: 'bundle_key' });
});

test('the restore sub-action with history: true refuses a backup without a bundle, writing nothing', async () => {
  const plain = await runBackup(repo, { 'include-git-history': 'false' });
  expect(plain.code).toBe(0);
  const parent = mkdtempSync(join(work, 'no-bundle-'));
  const target = join(parent, 'repo');
  const run = await runAction({
    script: 'dist/restore/index.js',
    inputs: restoreHistoryInputs(target, { ...s3Inputs(stack), backup: plain.outputs['backup-file']! }),
  });
  expect(run.code).toBe(1);
  expect(run.stdout).toContain(
    `::error::Backup ${plain.outputs['backup-file']} has no git history: it was made without include-git-history`,
  );
  expect(readdirSync(parent)).toEqual([]);
  expect(run.outputs).toEqual({});

  // The archive's own bounds would do nothing here: refused, naming the input.
  const bounded = await runAction({
    script: 'dist/restore/index.js',
    inputs: restoreHistoryInputs(target, { ...s3Inputs(stack), 'max-bytes': '1G' }),
  });
  expect(bounded.code).toBe(1);
  expect(bounded.stdout).toMatch(/::error::Invalid max-bytes: applies to the archive, not to history: true/);
  expect(readdirSync(parent)).toEqual([]);
});

test('a planted, unsigned record is not trusted for the history: refused unless allow-unverified', async () => {
  // Someone with S3 keys copies a genuine archive and bundle to a new name and writes a record
  // for them by hand: the Worker lists it as unsigned, and the bundle's hash vouches for nothing.
  const fresh = await runBackup(repo);
  expect(fresh.code).toBe(0);
  const genuine = fresh.outputs['backup-file']!;
  const planted = '20300101-000000.tar.gz';
  for (const [from, to] of [
    [genuine, planted],
    [genuine.replace(/\.tar\.gz$/, '.bundle'), planted.replace(/\.tar\.gz$/, '.bundle')],
  ]) {
    await aws(
      stack,
      's3',
      'cp',
      `s3://${BUCKET}/backups/tenant-a/${from}`,
      `s3://${BUCKET}/backups/tenant-a/${to}`,
    );
  }
  const record = await metadataOf(genuine);
  delete record.signature;
  const recordFile = join(work, 'planted.json');
  writeFileSync(recordFile, JSON.stringify({ ...record, backup_file: planted }));
  await aws(stack, 's3', 'cp', recordFile, `s3://${BUCKET}/backups/tenant-a/metadata/${planted}.json`);

  const refused = join(work, 'planted-refused');
  const cli = await runCli(
    ['restore', '--tenant', 'tenant-a', '--backup', planted, '--history', '--target', refused],
    workerEnv(stack, TOKEN),
  );
  expect(cli.code).toBe(1);
  expect(cli.stderr).toMatch(/record of 20300101-000000\.tar\.gz is unsigned.*Not restored/);
  expect(readdirSync(work)).not.toContain('planted-refused');

  const step = await runAction({
    script: 'dist/restore/index.js',
    inputs: {
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: 'tenant-a',
      backup: planted,
      history: 'true',
      target: refused,
    },
  });
  expect(step.code).not.toBe(0);
  expect(step.stdout).toMatch(/::error::The record of 20300101-000000\.tar\.gz is unsigned/);
  expect(readdirSync(work)).not.toContain('planted-refused');

  const allowed = join(work, 'planted-allowed');
  const anyway = await runCli(
    [
      'restore',
      '--tenant',
      'tenant-a',
      '--backup',
      planted,
      '--history',
      '--allow-unverified',
      '--target',
      allowed,
    ],
    workerEnv(stack, TOKEN),
  );
  expect(anyway.stderr).toMatch(/Warning: The record of 20300101-000000\.tar\.gz is unsigned/);
  expect(anyway.code).toBe(0);
  expect(await git(allowed, 'rev-parse', 'HEAD')).toBe(await git(repo, 'rev-parse', 'main'));
  for (const file of [planted, planted.replace(/\.tar\.gz$/, '.bundle'), `metadata/${planted}.json`]) {
    await aws(stack, 's3', 'rm', `s3://${BUCKET}/backups/tenant-a/${file}`);
  }
});
