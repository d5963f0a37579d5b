// The keep-* inputs as the runner runs them: after a recorded backup the Worker prunes the
// tenant, and exactly the backups the policy names remain (checked with awscli).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { clockStartingAt } from '../helpers/test-clock.js';
import { listKeys, makeFixtureTree, runAction, s3Inputs } from './helpers.js';

const TOKEN = randomBytes(24).toString('hex');
// The secure setup: a backup-role tenant token (the default role).
const BACKUP_TOKEN = createTenantToken(['tenant-a']);
// A repository trusted to delete: the maintain role.
const MAINTAIN_TOKEN = createTenantToken(['tenant-a'], [], 'maintain');
const BUCKET = 'tenant-a-github-backup';
const DAY = 24 * 3600 * 1000;
let stack: LocalStack;
let tree: string;

beforeAll(async () => {
  stack = await startLocalStack({
    env: 'test',
    vars: {
      CLOUDCONNECT: TOKEN,
      TENANT_TOKENS: `{${BACKUP_TOKEN.configEntry}, ${MAINTAIN_TOKEN.configEntry}}`,
    },
  });
  tree = makeFixtureTree(16 * 1024);
});
afterAll(async () => {
  await stack?.stop();
  if (tree) rmSync(tree, { recursive: true, force: true });
});

const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...s3Inputs(stack),
  'api-url': stack.url,
  'api-token': TOKEN,
  tenant: 'tenant-a',
  path: tree,
  ...extra,
});

/** The inputs without the S3 keys: the archive goes through the Worker's upload route. */
const throughWorker = (all: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(all).filter(([name]) => !name.startsWith('r2-')));

/** A backup as if the run had started at `at`: its clock starts there. Through the Worker, since
 *  R2's S3 endpoint refuses requests signed by a clock that far off (RequestTimeTooSkewed). */
async function backupAt(at: Date, extra: Record<string, string> = {}) {
  const run = await runAction({ inputs: throughWorker(inputs(extra)), env: clockStartingAt(at) });
  if (run.code !== 0) throw new Error(`the action failed:\n${run.stdout}`);
  return run;
}

/** backup_file -> every key of that backup (archive, record, notifications). */
async function backupsStored(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const key of await listKeys(stack, BUCKET, 'backups/tenant-a/')) {
    const file = /(\d{8}-\d{6}(?:-\d+)?\.tar\.gz)/.exec(key)![1]!;
    (out[file] ??= []).push(key);
  }
  return out;
}

test('keep-last 2 after a backup leaves exactly the two newest, each whole', async () => {
  const now = Date.now();
  const older = [];
  for (const daysAgo of [4, 3, 2]) older.push(await backupAt(new Date(now - daysAgo * DAY)));
  const last = await backupAt(new Date(now), { 'keep-last': '2' });
  expect(last.outputs.pruned).toBe('2');
  expect(last.stdout).toMatch(/Retention \(keep-last 2\): kept 2, deleted 2/);
  expect(last.summary).toMatch(/Retention.*2 older backups deleted/s);
  const stored = await backupsStored();
  expect(Object.keys(stored).sort()).toEqual(
    [older[2]!.outputs['backup-file'], last.outputs['backup-file']].sort(),
  );
  for (const [file, keys] of Object.entries(stored)) {
    // archive, metadata record and the success notification
    expect(keys).toEqual(
      expect.arrayContaining([
        `backups/tenant-a/${file}`,
        `backups/tenant-a/metadata/${file}.json`,
        expect.stringMatching(
          new RegExp(`^backups/tenant-a/notifications/${file.replace(/\./g, '\\.')}\\.[0-9a-f]{8}\\.json$`),
        ),
      ]),
    );
  }
});

test('keep-days counts from the newest backup', async () => {
  const now = Date.now();
  await backupAt(new Date(now - 20 * DAY));
  const run = await backupAt(new Date(now + 1000), { 'keep-days': '10' });
  // Kept: the backups of the last test (2 days old and now) and this one; the 20-day-old one goes.
  expect(run.outputs.pruned).toBe('1');
  expect(Object.keys(await backupsStored())).toHaveLength(3);
});

test('an invalid keep-last stops the run before anything is uploaded', async () => {
  const before = await listKeys(stack, BUCKET, 'backups/tenant-a/');
  for (const value of ['0', 'two', '-1', '1.5']) {
    const run = await runAction({ inputs: inputs({ 'keep-last': value }) });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::Invalid keep-last: must be a whole number from 1 to 100000/);
  }
  const noApi = await runAction({
    inputs: { ...s3Inputs(stack), tenant: 'tenant-a', path: tree, 'keep-days': '3' },
  });
  expect(noApi.code).toBe(1);
  expect(noApi.stdout).toMatch(/::error::Invalid keep-days: needs api-url/);
  expect(await listKeys(stack, BUCKET, 'backups/tenant-a/')).toEqual(before);
});

// Issue 23: keep-* with a backup credential (the secure setup) deletes nothing and says why.
test('keep-last with a backup-role token deletes nothing, warns why, and the run succeeds', async () => {
  const before = await listKeys(stack, BUCKET, 'backups/tenant-a/');
  expect(before.length).toBeGreaterThan(3);
  const run = await runAction({
    inputs: inputs({ 'api-token': BACKUP_TOKEN.token, 'keep-last': '1', 'fail-on-api-error': 'true' }),
  });
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(
    /::warning::Retention \(keep-last 1\) was not applied: .*needs the maintain role.*Nothing was deleted.*RETENTION_POLICIES/,
  );
  expect(run.outputs.pruned).toBeUndefined();
  const after = await listKeys(stack, BUCKET, 'backups/tenant-a/');
  // Everything that was there is still there, plus this run's backup.
  expect(after).toEqual(expect.arrayContaining(before));
  expect(
    after.filter((key) => !before.includes(key)).every((key) => key.includes(run.outputs['backup-file']!)),
  ).toBe(true);
});

// Issue 25 item 6: the run that started first but finishes second applies keep-last 1.
test('overlapping runs: keep-last 1 never deletes the backup the same run just stored', async () => {
  const now = Date.now();
  const later = await backupAt(new Date(now + 60_000));
  const first = await backupAt(new Date(now - 3600_000), { 'keep-last': '1' });
  const stored = await backupsStored();
  expect(Object.keys(stored).sort()).toEqual(
    [first.outputs['backup-file'], later.outputs['backup-file']].sort(),
  );
  // The outputs name a backup that exists.
  expect(await listKeys(stack, BUCKET, first.outputs['backup-key']!)).toEqual([first.outputs['backup-key']]);
});

test('keep-last with a maintain-role token prunes like the admin token', async () => {
  const before = Object.keys(await backupsStored());
  expect(before.length).toBeGreaterThan(1);
  const run = await runAction({
    inputs: inputs({ 'api-token': MAINTAIN_TOKEN.token, 'keep-last': '1', 'fail-on-api-error': 'true' }),
  });
  expect(run.code).toBe(0);
  expect(run.stdout).not.toMatch(/::warning::Retention/);
  expect(run.outputs.pruned).toBe(String(before.length));
  expect(Object.keys(await backupsStored())).toEqual([run.outputs['backup-file']]);
});
