// Restore end to end: backups made by `node dist/index.js`, brought back by `node dist/cli/index.js
// restore` and by the restore sub-action, compared entry by entry with the source tree; a
// corrupted object and a hostile archive are refused and leave the target as it was.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { clockStartingAt } from '../helpers/test-clock.js';
import { snapshotTree } from '../helpers/tree.js';
import {
  COMMIT,
  SEED_EXCLUDES,
  aws,
  excludedBy,
  makeFixtureTree,
  runAction,
  s3Inputs,
  type RunResult,
} from '../action/helpers.js';
import { apiClient } from '../worker/helpers.js';
import { fullEnv, runCli, workerEnv } from './helpers.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const BUCKET = 'tenant-a-github-backup';
const OTHER_COMMIT = 'abcdef0123456789abcdef0123456789abcdef01';
let stack: LocalStack;
let tree: string;
let work: string;
const backups: Partial<Record<'gzip' | 'zstd' | 'none' | 'other', RunResult>> = {};

beforeAll(async () => {
  stack = await sharedStack();
  tree = makeFixtureTree(3 * 1024 * 1024 + 17);
  work = mkdtempSync(join(tmpdir(), 'r2-backup-restore-'));
  const backup = async (compression: string, env: Record<string, string> = {}) => {
    const run = await runAction({
      inputs: {
        ...s3Inputs(stack),
        'api-url': stack.url,
        'api-token': TOKEN,
        tenant: 'tenant-a',
        path: tree,
        compression,
      },
      env,
    });
    if (run.code !== 0) throw new Error(run.stdout);
    return run;
  };
  // One second apart, so that newest first is well defined.
  const at = (secondsAgo: number) => clockStartingAt(new Date(Date.now() - secondsAgo * 1000));
  backups.other = await backup('gzip', { GITHUB_SHA: OTHER_COMMIT, ...at(4) });
  backups.gzip = await backup('gzip', at(3));
  backups.zstd = await backup('zstd', at(2));
  backups.none = await backup('none', at(1));
}, 120_000);
afterAll(async () => {
  for (const dir of [tree, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const source = () => snapshotTree(tree, excludedBy(SEED_EXCLUDES));
let targets = 0;
const freshTarget = (): string => join(work, `target-${++targets}`);

test.each(['gzip', 'zstd', 'none'] as const)(
  'a %s backup restores to an identical tree over S3',
  async (compression) => {
    const target = freshTarget();
    const file = backups[compression]!.outputs['backup-file']!;
    const run = await runCli(
      ['restore', '--tenant', 'tenant-a', '--backup', file, '--target', target],
      fullEnv(stack, TOKEN),
    );
    expect(run.stderr).toMatch(/from R2 over S3/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`sha256 ${backups[compression]!.outputs.sha256} verified`);
    expect(snapshotTree(target)).toEqual(source());
  },
);

test('--latest through the Worker alone, --commit by prefix', async () => {
  const latest = freshTarget();
  const run = await runCli(
    ['restore', '--tenant', 'tenant-a', '--latest', '--target', latest],
    workerEnv(stack, TOKEN),
  );
  expect(run.stderr).toMatch(
    new RegExp(
      `Restoring backups/tenant-a/${backups.none!.outputs['backup-file']!.replace(/\./g, '\\.')} .*Worker download route`,
    ),
  );
  expect(run.code).toBe(0);
  expect(snapshotTree(latest)).toEqual(source());

  const byCommit = freshTarget();
  const other = await runCli(
    ['restore', '--tenant', 'tenant-a', '--commit', OTHER_COMMIT.slice(0, 7), '--target', byCommit],
    fullEnv(stack, TOKEN),
  );
  expect(other.code).toBe(0);
  expect(other.stdout).toContain(`Restored ${backups.other!.outputs['backup-file']}`);
  // The newest backup of COMMIT is the last one made.
  const newest = await runCli(
    ['restore', '--tenant', 'tenant-a', '--commit', COMMIT.slice(0, 10), '--target', freshTarget()],
    fullEnv(stack, TOKEN),
  );
  expect(newest.stdout).toContain(`Restored ${backups.none!.outputs['backup-file']}`);
});

test('with R2 keys alone (no Worker) the records are read over S3', async () => {
  const s3Only = Object.fromEntries(
    Object.entries(fullEnv(stack, TOKEN)).filter(([name]) => !name.startsWith('R2_BACKUP_API')),
  );
  const target = freshTarget();
  const run = await runCli(['restore', '--tenant', 'tenant-a', '--latest', '--target', target], s3Only);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`Restored ${backups.none!.outputs['backup-file']}`);
  expect(snapshotTree(target)).toEqual(source());
  const byCommit = await runCli(
    ['restore', '--tenant', 'tenant-a', '--commit', OTHER_COMMIT.slice(0, 8), '--target', freshTarget()],
    s3Only,
  );
  expect(byCommit.stdout).toContain(`Restored ${backups.other!.outputs['backup-file']}`);
});

test('bad calls: a clear message, exit 2, nothing restored', async () => {
  const target = freshTarget();
  const cases: [string[], RegExp][] = [
    [['restore', '--tenant', 'tenant-a', '--target', target], /one of --backup, --latest, --commit/],
    [['restore', '--tenant', 'tenant-a', '--latest'], /--target is required/],
    [['restore', '--tenant', '../x', '--latest', '--target', target], /Invalid --tenant/],
    [
      ['restore', '--tenant', 'tenant-a', '--latest', '--target', target, '--bogus'],
      /Unknown option '--bogus'/,
    ],
    [['restore', '--tenant', 'tenant-a', '--commit', 'xyz', '--target', target], /Invalid commit/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, fullEnv(stack, TOKEN));
    expect({ args, code: run.code, message: message.test(run.stderr) }).toEqual({
      args,
      code: 2,
      message: true,
    });
  }
  const nothing = await runCli(['restore', '--tenant', 'tenant-a', '--latest', '--target', target]);
  expect(nothing.code).toBe(2);
  expect(nothing.stderr).toMatch(
    /needs the Worker \(R2_BACKUP_API_URL, R2_BACKUP_API_TOKEN\) or R2's S3 keys/,
  );
  expect(existsSync(target)).toBe(false);
});

test('a non-empty target is refused without --force and kept as it was', async () => {
  const target = freshTarget();
  mkdirSync(target);
  writeFileSync(join(target, 'precious.txt'), 'mine\n');
  const run = await runCli(
    ['restore', '--tenant', 'tenant-a', '--latest', '--target', target],
    fullEnv(stack, TOKEN),
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/is not empty.*--force/);
  expect(snapshotTree(target)).toEqual({ 'precious.txt': expect.anything() });
  const forced = await runCli(
    ['restore', '--tenant', 'tenant-a', '--latest', '--target', target, '--force'],
    fullEnv(stack, TOKEN),
  );
  expect(forced.code).toBe(0);
  expect(snapshotTree(target)).toEqual(source());
});

test('the restore sub-action names its own inputs where the CLI names its flags', async () => {
  const target = freshTarget();
  mkdirSync(target);
  writeFileSync(join(target, 'precious.txt'), 'mine\n');
  const step = (inputs: Record<string, string>) =>
    runAction({
      script: 'dist/restore/index.js',
      inputs: { ...s3Inputs(stack), 'api-url': stack.url, 'api-token': TOKEN, tenant: 'tenant-a', ...inputs },
    });
  const refused = await step({ target });
  expect(refused.code).not.toBe(0);
  expect(refused.stdout).toMatch(
    /::error::Target directory .* is not empty: .*use force: true to replace it/,
  );
  expect(refused.stdout).not.toContain('--force');
  expect(snapshotTree(target)).toEqual({ 'precious.txt': expect.anything() });

  const bounded = await step({ target: freshTarget(), 'max-bytes': '1K' });
  expect(bounded.code).not.toBe(0);
  expect(bounded.stdout).toMatch(/expands past the limit of 1024 bytes \(max-bytes\)/);
  expect(bounded.stdout).not.toContain('--max-bytes');
  const cli = await runCli(
    ['restore', '--tenant', 'tenant-a', '--latest', '--target', freshTarget(), '--max-bytes', '1K'],
    fullEnv(stack, TOKEN),
  );
  expect(cli.code).toBe(1);
  expect(cli.stderr).toMatch(/expands past the limit of 1024 bytes \(--max-bytes\)/);
});

test('the restore sub-action restores the tree and reports it, as the runner runs it', async () => {
  const target = freshTarget();
  const run = await runAction({
    script: 'dist/restore/index.js',
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: 'tenant-a',
      backup: backups.zstd!.outputs['backup-file']!,
      target,
    },
  });
  expect(run.code).toBe(0);
  expect(snapshotTree(target)).toEqual(source());
  expect(run.outputs).toMatchObject({
    'backup-file': backups.zstd!.outputs['backup-file'],
    'backup-key': backups.zstd!.outputs['backup-key'],
    sha256: backups.zstd!.outputs.sha256,
    size: backups.zstd!.outputs.size,
    commit: COMMIT,
    target,
  });
  expect(run.summary).toMatch(/R2 restore.*SHA-256 verified/s);
  // With the S3 keys alone, the records come from R2 itself.
  const s3Only = freshTarget();
  const alone = await runAction({
    script: 'dist/restore/index.js',
    inputs: { ...s3Inputs(stack), tenant: 'tenant-a', target: s3Only },
  });
  expect(alone.code).toBe(0);
  expect(alone.outputs['backup-file']).toBe(backups.none!.outputs['backup-file']);
  expect(snapshotTree(s3Only)).toEqual(source());
});

test('a corrupted object fails the restore and leaves the target untouched', async () => {
  const { 'backup-key': key, 'backup-file': file } = backups.gzip!.outputs;
  const copy = join(work, 'corrupt.tar.gz');
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, copy, '--only-show-errors');
  const bytes = readFileSync(copy);
  // Flip bytes in the middle of the stored (incompressible) data: same size, other content.
  for (let i = 0; i < 16; i++) bytes[Math.floor(bytes.length / 2) + i]! ^= 0xff;
  writeFileSync(copy, bytes);
  await aws(stack, 's3', 'cp', copy, `s3://${BUCKET}/${key}`, '--only-show-errors');

  const target = freshTarget();
  mkdirSync(target);
  writeFileSync(join(target, 'keep-me.txt'), 'old state\n');
  const before = snapshotTree(target);
  for (const env of [fullEnv(stack, TOKEN), workerEnv(stack, TOKEN)]) {
    const run = await runCli(
      ['restore', '--tenant', 'tenant-a', '--backup', file!, '--target', target, '--force'],
      env,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/does not match its metadata.*was left as it was/);
    expect(snapshotTree(target)).toEqual(before);
  }
  expect(readFileSync(join(target, 'keep-me.txt'), 'utf8')).toBe('old state\n');
  // Nothing staged was left beside it.
  expect((await exec('ls', ['-a', work])).stdout).not.toMatch(/\.restore-/);

  // verify finds it only when it reads the bytes.
  expect(
    (await runCli(['verify', '--tenant', 'tenant-a', '--backup', file!], fullEnv(stack, TOKEN))).code,
  ).toBe(0);
  const deep = await runCli(
    ['verify', '--tenant', 'tenant-a', '--backup', file!, '--deep'],
    fullEnv(stack, TOKEN),
  );
  expect(deep.code).toBe(1);
  expect(deep.stdout).toContain(`PROBLEM ${file}: SHA-256`);
});

test.each([
  ['../escaped.txt', '20200101-000000.tar'],
  ['/tmp/r2-backup-absolute-escape.txt', '20200101-000001.tar'],
])('an archive with the entry %s is refused and nothing lands outside the target', async (entry, file) => {
  const dir = mkdtempSync(join(work, 'hostile-'));
  const tarFile = join(dir, 'hostile.tar');
  writeFileSync(join(dir, 'inside.txt'), 'fine\n');
  // GNU tar keeps such names only when asked not to strip them (-P).
  await exec('tar', [
    '-cf',
    tarFile,
    '-C',
    dir,
    '-P',
    '--transform',
    `s,^inside.txt,${entry},`,
    'inside.txt',
  ]);
  expect((await exec('tar', ['-tPf', tarFile])).stdout.trim()).toBe(entry);
  const bytes = readFileSync(tarFile);
  await aws(stack, 's3', 'cp', tarFile, `s3://${BUCKET}/backups/tenant-a/${file}`, '--only-show-errors');
  const stored = await apiClient(stack, TOKEN).post('/api/github/backup', {
    tenant: 'tenant-a',
    bucket: BUCKET,
    repo: 'octo-org/tenant-a',
    branch: 'main',
    commit: COMMIT,
    backup_file: file,
    action: 'backup',
    compression: 'none',
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  });
  expect(stored.status).toBe(201);
  const target = join(dir, 'target');
  const run = await runCli(
    ['restore', '--tenant', 'tenant-a', '--backup', file, '--target', target],
    fullEnv(stack, TOKEN),
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`Refused archive entry "${entry}"`);
  expect(existsSync(join(dir, 'escaped.txt'))).toBe(false);
  expect(existsSync('/tmp/r2-backup-absolute-escape.txt')).toBe(false);
  expect(existsSync(target)).toBe(false);
});

test('the target gets the mode and time of the tree that was backed up, by the CLI and the sub-action', async () => {
  const dir = mkdtempSync(join(work, 'root-mode-'));
  const source = join(dir, 'source');
  mkdirSync(source);
  writeFileSync(join(source, 'a.txt'), 'a');
  chmodSync(source, 0o750);
  utimesSync(source, 1_700_000_000, 1_700_000_000);
  const made = await runAction({
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: 'tenant-a',
      path: source,
      compression: 'zstd',
    },
  });
  expect(made.code).toBe(0);
  const file = made.outputs['backup-file']!;
  const byCli = join(dir, 'by-cli');
  const run = await runCli(
    ['restore', '--tenant', 'tenant-a', '--backup', file, '--target', byCli],
    fullEnv(stack, TOKEN),
  );
  expect(run.code).toBe(0);
  const bySubAction = join(dir, 'by-sub-action');
  const step = await runAction({
    script: 'dist/restore/index.js',
    inputs: { ...s3Inputs(stack), tenant: 'tenant-a', backup: file, target: bySubAction },
  });
  expect(step.code).toBe(0);
  for (const target of [byCli, bySubAction]) {
    const stats = statSync(target);
    expect([target, (stats.mode & 0o7777).toString(8), stats.mtimeMs]).toEqual([
      target,
      '750',
      1_700_000_000_000,
    ]);
    expect(readFileSync(join(target, 'a.txt'), 'utf8')).toBe('a');
  }
});
