// --json of every command that prints results (list, verify, prune, token create), parsed and
// checked against what the action stored (its outputs) and the bucket (awscli); and
// R2_BACKUP_TENANT standing for --tenant. The CLI as a user runs it: node dist/cli/index.js.
import { createHash } from 'node:crypto';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '../../scripts/local-stack.js';
import { aws, listKeys, makeFixtureTree, runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { clockStartingAt } from '../helpers/test-clock.js';
import { fullEnv, runCli, workerEnv } from './helpers.js';

const TOKEN = sharedStackToken();
const TENANT = 'tenant-a';
const BUCKET = 'tenant-a-github-backup';
const tenantArgs = ['--tenant', TENANT];
let stack: LocalStack;
let tree: string;
const made: RunResult[] = [];

beforeAll(async () => {
  stack = await sharedStack();
  tree = makeFixtureTree(64 * 1024);
  // One second apart, so that newest first is well defined.
  for (const secondsAgo of [3, 2, 1]) {
    const run = await runAction({
      inputs: { ...s3Inputs(stack), 'api-url': stack.url, 'api-token': TOKEN, tenant: TENANT, path: tree },
      env: clockStartingAt(new Date(Date.now() - secondsAgo * 1000)),
    });
    if (run.code !== 0) throw new Error(run.stdout);
    made.push(run);
  }
  // The oldest loses its archive: its status and verify's problem say so.
  await aws(stack, 's3', 'rm', `s3://${BUCKET}/${made[0]!.outputs['backup-key']}`);
}, 120_000);
afterAll(() => {
  if (tree) rmSync(tree, { recursive: true, force: true });
});

const file = (index: number): string => made[index]!.outputs['backup-file']!;

interface ListedRecord {
  backup_file: string;
  sha256: string;
  size: number;
  status: string;
}

test('list --json: the records newest first, each with the status column of the table', async () => {
  const run = await runCli(['list', ...tenantArgs, '--json'], workerEnv(stack, TOKEN));
  expect(run.code).toBe(0);
  const records = JSON.parse(run.stdout) as ListedRecord[];
  expect(records.map((r) => [r.backup_file, r.status])).toEqual([
    [file(2), 'ok'],
    [file(1), 'ok'],
    [file(0), 'missing archive'],
  ]);
  expect(records[0]!.sha256).toBe(made[2]!.outputs.sha256);
  expect(String(records[0]!.size)).toBe(made[2]!.outputs.size);
  // The table says the same.
  const table = await runCli(['list', ...tenantArgs], workerEnv(stack, TOKEN));
  expect(table.stdout).toMatch(new RegExp(` missing archive .* ${file(0)}$`, 'm'));
});

interface VerifyJson {
  tenant: string;
  bucket: string;
  backup: string | null;
  deep: boolean;
  strict: boolean;
  checked: number;
  ok: boolean;
  problems: { object: string; problem: string }[];
  unverifiable: { object: string; reason: string }[];
}

test('verify --json: the problems found, and ok for a whole backup; the exit code as without', async () => {
  const broken = await runCli(['verify', ...tenantArgs, '--deep', '--json'], fullEnv(stack, TOKEN));
  expect(broken.code).toBe(1);
  const result = JSON.parse(broken.stdout) as VerifyJson;
  expect(result).toEqual({
    tenant: TENANT,
    bucket: BUCKET,
    backup: null,
    deep: true,
    strict: false,
    checked: 3,
    ok: false,
    problems: [{ object: file(0), problem: 'the record has no archive' }],
    unverifiable: [],
  });

  const whole = await runCli(
    ['verify', ...tenantArgs, '--backup', file(1), '--deep', '--json'],
    fullEnv(stack, TOKEN),
  );
  expect(whole.code).toBe(0);
  expect(JSON.parse(whole.stdout)).toMatchObject({ backup: file(1), checked: 1, ok: true, problems: [] });
});

test('verify --json: stdout is the JSON alone; notes along the way (the dry run of a repair) go to stderr', async () => {
  // An archive without a record: with S3 keys, verify says what a repair would do with it.
  const orphan = `backups/${TENANT}/20200101-000000.tar.gz`;
  const dir = mkdtempSync(join(tmpdir(), 'r2-backup-orphan-'));
  writeFileSync(join(dir, 'x'), 'not a recorded backup');
  await aws(stack, 's3', 'cp', join(dir, 'x'), `s3://${BUCKET}/${orphan}`);
  rmSync(dir, { recursive: true });
  try {
    const text = await runCli(['verify', ...tenantArgs], fullEnv(stack, TOKEN));
    const notes = text.stdout
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('PROBLEM ') && !/ checked \(size\): /.test(line));
    expect(notes.length).toBeGreaterThan(0);

    const json = await runCli(['verify', ...tenantArgs, '--json'], fullEnv(stack, TOKEN));
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout) as VerifyJson;
    expect(result.problems.map((p) => p.object)).toEqual(
      expect.arrayContaining([file(0), '20200101-000000.tar.gz']),
    );
    // Up to the first comma: the rest may say how long ago the object was stored.
    for (const note of notes) expect(json.stderr).toContain(note.split(',')[0]);
  } finally {
    await aws(stack, 's3', 'rm', `s3://${BUCKET}/${orphan}`);
  }
});

test('restore --json: what was restored, as the text says it and as the tree holds it', async () => {
  const work = mkdtempSync(join(tmpdir(), 'r2-backup-json-restore-'));
  try {
    const target = join(work, 'json');
    const run = await runCli(
      ['restore', ...tenantArgs, '--backup', file(1), '--target', target, '--json'],
      fullEnv(stack, TOKEN),
    );
    expect(run.code).toBe(0);
    const restored = JSON.parse(run.stdout) as {
      backup_file: string;
      key: string;
      target: string;
      entries: number;
      size: number;
      sha256: string;
      compared: boolean;
      symlinks: { path: string; target: string }[];
    };
    expect(restored).toMatchObject({
      backup_file: file(1),
      key: made[1]!.outputs['backup-key'],
      target,
      size: Number(made[1]!.outputs.size),
      sha256: made[1]!.outputs.sha256,
      compared: true,
    });
    const text = await runCli(
      ['restore', ...tenantArgs, '--backup', file(1), '--target', join(work, 'text')],
      fullEnv(stack, TOKEN),
    );
    expect(text.stdout).toContain(`: ${restored.entries} entries, ${restored.size} bytes`);
    expect(restored.symlinks.length).toBeGreaterThan(0);
    for (const link of restored.symlinks) expect(readlinkSync(join(target, link.path))).toBe(link.target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

interface PruneJson {
  tenant: string;
  bucket: string;
  dry_run: boolean;
  policy: Record<string, number>;
  kept: { backup_file: string; reasons: string[] }[];
  deleted: { backup_file: string; keys: string[] }[];
  count_kept: number;
  count_deleted: number;
}

test('prune --json: what was kept and deleted, with the keys that are gone from the bucket', async () => {
  const dry = await runCli(
    ['prune', ...tenantArgs, '--keep-last', '1', '--dry-run', '--json'],
    workerEnv(stack, TOKEN),
  );
  expect(dry.code).toBe(0);
  const planned = JSON.parse(dry.stdout) as PruneJson;
  expect(planned).toMatchObject({ tenant: TENANT, bucket: BUCKET, dry_run: true, policy: { keep_last: 1 } });
  expect(planned.kept.map((k) => k.backup_file)).toEqual([file(2)]);
  expect(planned.deleted.map((d) => d.backup_file).sort()).toEqual([file(0), file(1)].sort());
  expect([planned.count_kept, planned.count_deleted]).toEqual([1, 2]);

  const run = await runCli(['prune', ...tenantArgs, '--keep-last', '2', '--json'], workerEnv(stack, TOKEN));
  expect(run.code).toBe(0);
  const pruned = JSON.parse(run.stdout) as PruneJson;
  expect(pruned.dry_run).toBe(false);
  expect(pruned.deleted.map((d) => d.backup_file)).toEqual([file(0)]);
  const left = await listKeys(stack, BUCKET, `backups/${TENANT}/`);
  expect(pruned.deleted[0]!.keys.length).toBeGreaterThan(0);
  for (const key of pruned.deleted[0]!.keys) expect(left).not.toContain(key);
  expect(left).toContain(made[1]!.outputs['backup-key']);
});

test('token create --json: the token, its SHA-256 and the TENANT_TOKENS entry (no stack needed)', async () => {
  const run = await runCli([
    'token',
    'create',
    '--tenant',
    'acme',
    '--tenant',
    'beta',
    '--bucket',
    'acme-backups',
    '--role',
    'maintain',
    '--json',
  ]);
  expect(run.code).toBe(0);
  const created = JSON.parse(run.stdout) as {
    token: string;
    sha256: string;
    role: string;
    tenants: string[];
    buckets: string[] | null;
    principal: string;
    tenant_tokens_entry: Record<string, unknown>;
  };
  expect(created.sha256).toBe(createHash('sha256').update(created.token).digest('hex'));
  expect(created).toMatchObject({ role: 'maintain', tenants: ['acme', 'beta'], buckets: ['acme-backups'] });
  expect(created.principal).toBe(`token:${created.sha256.slice(0, 12)}`);
  expect(created.tenant_tokens_entry).toEqual({
    [created.sha256]: { tenants: ['acme', 'beta'], buckets: ['acme-backups'], role: 'maintain' },
  });
  const plain = JSON.parse((await runCli(['token', 'create', '--tenant', 'acme', '--json'])).stdout) as {
    buckets: unknown;
    role: string;
  };
  expect([plain.buckets, plain.role]).toEqual([null, 'backup']);
});

test('R2_BACKUP_TENANT stands for --tenant; the flag wins; a bad value is named', async () => {
  const byFlag = await runCli(['list', ...tenantArgs, '--json'], workerEnv(stack, TOKEN));
  const byVariable = await runCli(['list', '--json'], {
    ...workerEnv(stack, TOKEN),
    R2_BACKUP_TENANT: TENANT,
  });
  expect(byVariable.code).toBe(0);
  expect(JSON.parse(byVariable.stdout)).toEqual(JSON.parse(byFlag.stdout));
  expect((JSON.parse(byFlag.stdout) as unknown[]).length).toBeGreaterThan(0);

  const flagWins = await runCli(['list', ...tenantArgs, '--json'], {
    ...workerEnv(stack, TOKEN),
    R2_BACKUP_TENANT: 'tenant-b',
  });
  expect(JSON.parse(flagWins.stdout)).toEqual(JSON.parse(byFlag.stdout));

  const bad = await runCli(['list'], { ...workerEnv(stack, TOKEN), R2_BACKUP_TENANT: 'no spaces' });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('R2_BACKUP_TENANT');
  const none = await runCli(['list'], workerEnv(stack, TOKEN));
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('--tenant (or R2_BACKUP_TENANT) is required');
});
