// list, verify, prune and token create as a user runs them (`node dist/cli/index.js`), on
// backups made by the action; what they report is checked against the bucket with awscli.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { aws, listKeys, makeFixtureTree, runAction, type RunResult } from '../action/helpers.js';
import { clockStartingAt } from '../helpers/test-clock.js';
import { fullEnv, runCli, workerEnv } from './helpers.js';

const ADMIN = randomBytes(24).toString('hex');
const DAY = 24 * 3600 * 1000;
let stack: LocalStack;
let tree: string;
let tenantToken: string;
const made: RunResult[] = [];

beforeAll(async () => {
  // The token is made first, so that the Worker starts with its TENANT_TOKENS entry.
  const created = await runCli(['token', 'create', '--tenant', 'tenant-a']);
  expect(created.code).toBe(0);
  tenantToken = /^(r2b_[A-Za-z0-9_-]{43})$/m.exec(created.stdout)![1]!;
  const entry = /^("[0-9a-f]{64}": \{.*\})$/m.exec(created.stdout)![1]!;
  stack = await startLocalStack({ env: 'test', vars: { CLOUDCONNECT: ADMIN, TENANT_TOKENS: `{${entry}}` } });
  tree = makeFixtureTree(32 * 1024);
  // Each run's clock starts days ago; through the Worker's upload route, since R2's S3 endpoint
  // refuses requests signed by a clock that far off (RequestTimeTooSkewed).
  for (const daysAgo of [5, 4, 3, 2, 1]) {
    const run = await runAction({
      inputs: {
        'api-url': stack.url,
        'api-token': ADMIN,
        tenant: 'tenant-a',
        path: tree,
      },
      env: clockStartingAt(new Date(Date.now() - daysAgo * DAY)),
    });
    if (run.code !== 0) throw new Error(run.stdout);
    made.push(run);
  }
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  if (tree) rmSync(tree, { recursive: true, force: true });
});

const files = () => made.map((run) => run.outputs['backup-file']!);
const tenantArgs = ['--tenant', 'tenant-a'];

test('token create prints the token once and a TENANT_TOKENS entry the Worker accepts', async () => {
  const own = await runCli(['list', ...tenantArgs], workerEnv(stack, tenantToken));
  expect(own.code).toBe(0);
  const other = await runCli(['list', '--tenant', 'tenant-b'], workerEnv(stack, tenantToken));
  // Not allowed: exit code 3 (r2-backup --help), with the Worker's reason.
  expect(other.code).toBe(3);
  expect(other.stderr).toMatch(/403 Forbidden: not allowed to use bucket tenant-b-github-backup/);
  const bad = await runCli(['token', 'create']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--tenant is required/);
});

test('list: a table newest first, and --json', async () => {
  const run = await runCli(['list', ...tenantArgs], workerEnv(stack, ADMIN));
  expect(run.code).toBe(0);
  const lines = run.stdout.trim().split('\n');
  expect(lines[0]).toMatch(
    /^TIME \(UTC\)\s+BRANCH\s+COMMIT\s+SIZE\s+COMPRESSION\s+STATUS\s+RECORD\s+HISTORY\s+BACKUP$/,
  );
  const rows = lines.slice(1, -1);
  expect(rows.map((line) => line.split(/\s+/).pop())).toEqual([...files()].reverse());
  for (const line of rows) expect(line).toMatch(/ main +fedcba987654 +[\d.]+ KiB +gzip +ok +verified +/);
  // This Worker has no RETENTION_POLICIES: the last line says so.
  expect(lines.at(-1)).toMatch(/^Retention: no Worker policy \(RETENTION_POLICIES\)/);
  const json = await runCli(['list', ...tenantArgs, '--json', '--limit', '2'], workerEnv(stack, ADMIN));
  const records = JSON.parse(json.stdout) as { backup_file: string; sha256: string }[];
  expect(records.map((r) => r.backup_file)).toEqual([files()[4], files()[3]]);
  expect(records[0]!.sha256).toBe(made[4]!.outputs.sha256);
});

test('verify: a healthy tenant passes; a deleted archive and an orphan record are found', async () => {
  const healthy = await runCli(['verify', ...tenantArgs, '--deep'], fullEnv(stack, ADMIN));
  expect(healthy.stdout).toMatch(
    /5 backups of tenant tenant-a in bucket tenant-a-github-backup checked \(size and SHA-256\): all whole/,
  );
  expect(healthy.code).toBe(0);

  await aws(stack, 's3', 'rm', `s3://tenant-a-github-backup/${made[1]!.outputs['backup-key']}`);
  const orphanDir = mkdtempSync(join(tmpdir(), 'r2-backup-orphan-'));
  writeFileSync(join(orphanDir, 'x'), 'not a recorded backup');
  await aws(
    stack,
    's3',
    'cp',
    join(orphanDir, 'x'),
    's3://tenant-a-github-backup/backups/tenant-a/20200101-000000.tar.gz',
  );
  rmSync(orphanDir, { recursive: true });

  const broken = await runCli(['verify', ...tenantArgs], workerEnv(stack, ADMIN));
  expect(broken.code).toBe(1);
  expect(broken.stdout).toContain(`PROBLEM ${files()[1]}: the record has no archive`);
  expect(broken.stdout).toContain('PROBLEM 20200101-000000.tar.gz: the archive has no record');
  expect(broken.stdout).toMatch(/2 problems/);
  // One backup at a time.
  expect(
    (await runCli(['verify', ...tenantArgs, '--backup', files()[2]!], workerEnv(stack, ADMIN))).code,
  ).toBe(0);
  expect(
    (await runCli(['verify', ...tenantArgs, '--backup', files()[1]!], workerEnv(stack, ADMIN))).code,
  ).toBe(1);
});

test('prune: --dry-run deletes nothing; then exactly what the policy names goes', async () => {
  const before = await listKeys(stack, 'tenant-a-github-backup', 'backups/tenant-a/');
  const dry = await runCli(
    ['prune', ...tenantArgs, '--keep-last', '2', '--dry-run'],
    workerEnv(stack, ADMIN),
  );
  expect(dry.code).toBe(0);
  expect(dry.stdout).toMatch(/Dry run: 2 kept, 3 would be deleted/);
  expect(await listKeys(stack, 'tenant-a-github-backup', 'backups/tenant-a/')).toEqual(before);

  const run = await runCli(['prune', ...tenantArgs, '--keep-last', '2'], workerEnv(stack, ADMIN));
  expect(run.code).toBe(0);
  for (const file of files().slice(0, 3)) expect(run.stdout).toContain(`deleted ${file}`);
  const json = await runCli(['list', ...tenantArgs, '--json'], workerEnv(stack, ADMIN));
  expect((JSON.parse(json.stdout) as { backup_file: string }[]).map((r) => r.backup_file)).toEqual([
    files()[4],
    files()[3],
  ]);
  const bad = await runCli(['prune', ...tenantArgs, '--keep-last', '0'], workerEnv(stack, ADMIN));
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--keep-last must be a whole number from 1 to 100000/);
  expect((await runCli(['prune', ...tenantArgs], workerEnv(stack, ADMIN))).stderr).toMatch(
    /give at least one of --keep-last/,
  );
});

test('--help for every command, and the command list', async () => {
  const top = await runCli(['--help']);
  expect(top.code).toBe(0);
  for (const name of ['list', 'restore', 'verify', 'prune', 'token']) {
    expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    const help = await runCli([name, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: r2-backup ${name}`));
  }
  expect((await runCli(['frobnicate'])).code).toBe(2);
});
