// Issue 23 through the CLI as users run it: `token create --role`, and `prune` with a backup
// token (the "2 kept, 3 deleted" with a tenant token) deletes nothing and says which
// role is needed, while a maintain token prunes; checked against the bucket with awscli.
import { randomBytes } from 'node:crypto';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { storeBackup } from '../retention/helpers.js';
import { listKeys } from '../action/helpers.js';
import { apiClient } from '../worker/helpers.js';
import { runCli, workerEnv } from './helpers.js';

const ADMIN = randomBytes(24).toString('hex');
const BUCKET = 'tenant-a-github-backup';
const ARGS = ['--tenant', 'tenant-a', '--bucket', BUCKET];
let stack: LocalStack;
const tokens: Record<string, { token: string; entry: string; stdout: string }> = {};

beforeAll(async () => {
  for (const [name, args] of [
    ['default', []],
    ['backup', ['--role', 'backup']],
    ['maintain', ['--role', 'maintain']],
  ] as const) {
    const created = await runCli(['token', 'create', '--tenant', 'tenant-a', ...args]);
    expect(created.code).toBe(0);
    tokens[name] = {
      token: /^(r2b_[A-Za-z0-9_-]{43})$/m.exec(created.stdout)![1]!,
      entry: /^("[0-9a-f]{64}": \{.*\})$/m.exec(created.stdout)![1]!,
      stdout: created.stdout,
    };
  }
  const entries = Object.values(tokens).map((t) => t.entry);
  stack = await startLocalStack({
    env: 'test',
    vars: { CLOUDCONNECT: ADMIN, TENANT_TOKENS: `{${entries.join(',')}}` },
  });
  for (const day of ['01', '02', '03', '04', '05']) {
    await storeBackup(apiClient(stack, ADMIN), {
      tenant: 'tenant-a',
      bucket: BUCKET,
      backupFile: `202610${day}-120000.tar.gz`,
    });
  }
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

test('token create names the role in the entry and says where the token belongs', async () => {
  expect(tokens.default!.entry).toMatch(/"role":"backup"/);
  expect(tokens.default!.stdout).toMatch(/backup role.*gh secret set R2_BACKUP_TOKEN/);
  expect(tokens.default!.stdout).not.toMatch(/CLOUDCONNECT/);
  expect(tokens.backup!.entry).toMatch(/"role":"backup"/);
  expect(tokens.maintain!.entry).toMatch(/"role":"maintain"/);
  expect(tokens.maintain!.stdout).toMatch(/maintain role.*never in the repositories/);
  const bad = await runCli(['token', 'create', '--tenant', 'tenant-a', '--role', 'admin']);
  expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--role must be backup .* or maintain/)]);
});

test('prune with a backup token deletes nothing and names the maintain role', async () => {
  const before = await listKeys(stack, BUCKET, 'backups/tenant-a/');
  for (const name of ['default', 'backup']) {
    const run = await runCli(['prune', ...ARGS, '--keep-last', '2'], workerEnv(stack, tokens[name]!.token));
    expect([name, run.code]).toEqual([name, 3]); // not allowed
    expect(run.stderr).toMatch(
      /needs the maintain role for tenant tenant-a.*Nothing was deleted.*--role maintain/,
    );
    expect(run.stdout).not.toMatch(/deleted/);
    // A dry run only reads: allowed.
    const dry = await runCli(
      ['prune', ...ARGS, '--keep-last', '2', '--dry-run'],
      workerEnv(stack, tokens[name]!.token),
    );
    expect([dry.code, dry.stdout]).toEqual([0, expect.stringMatching(/Dry run: 2 kept, 3 would be deleted/)]);
  }
  expect(await listKeys(stack, BUCKET, 'backups/tenant-a/')).toEqual(before);
});

test('prune with a maintain token deletes what the policy does not keep', async () => {
  const run = await runCli(['prune', ...ARGS, '--keep-last', '2'], workerEnv(stack, tokens.maintain!.token));
  expect([run.code, run.stdout]).toEqual([0, expect.stringMatching(/2 kept, 3 deleted/)]);
  const left = await listKeys(stack, BUCKET, 'backups/tenant-a/metadata/');
  expect(left).toEqual(
    ['20261004-120000.tar.gz', '20261005-120000.tar.gz'].map((f) => `backups/tenant-a/metadata/${f}.json`),
  );
});
