// Encrypted git history and key rotation end to end: keys made by `r2-backup keygen` (read by
// the age tool too), a backup with include-git-history and encryption-recipients whose bundle
// is an age file restorable with --history, and `r2-backup rekey` storing a new backup for a new
// key that restores with the new identity only, while the old backup stays as it was.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { snapshotTree } from '../helpers/tree.js';
import { aws, runAction, s3Inputs } from '../action/helpers.js';
import { apiClient } from '../worker/helpers.js';
import { fullEnv, runCli, workerEnv } from '../cli/helpers.js';
import { recipientFingerprint } from '../../core/crypto/recipients.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const TENANT = 'tenant-b';
const BUCKET = 'tenant-b-github-backup';
let stack: LocalStack;
let work: string;
let repo: string;
let backupFile: string;
const keys = { old: '', new: '' };
const recipients = { old: '', new: '' };

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (
    await exec('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd })
  ).stdout.trim();
const refsOf = (dir: string) => git(dir, 'for-each-ref', '--format=%(objectname) %(refname)');
const cli = (...args: string[]) => runCli(args, fullEnv(stack, TOKEN));

async function keygen(name: string): Promise<{ file: string; recipient: string }> {
  const file = join(work, `${name}.key`);
  const run = await runCli(['keygen', '--output', file]);
  expect(run.code).toBe(0);
  return { file, recipient: /Public key \(for encryption-recipients\): (age1\S+)/.exec(run.stderr)![1]! };
}

const records = async () =>
  (
    (await (
      await apiClient(stack, TOKEN)(`/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&limit=50`)
    ).json()) as { backups: Record<string, unknown>[] }
  ).backups;

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-rekey-'));
  repo = join(work, 'repo');
  mkdirSync(repo);
  await git(repo, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(repo, 'a.txt'), 'one\n');
  await git(repo, 'add', 'a.txt');
  await git(repo, 'commit', '--quiet', '-m', 'one');
  await git(repo, 'tag', 'v1');
  await git(repo, 'checkout', '--quiet', '-b', 'side');
  writeFileSync(join(repo, 'b.txt'), 'side\n');
  await git(repo, 'add', 'b.txt');
  await git(repo, 'commit', '--quiet', '-m', 'side');
  await git(repo, 'checkout', '--quiet', 'main');
  const old = await keygen('old');
  keys.old = old.file;
  recipients.old = old.recipient;
  const run = await runAction({
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: TENANT,
      path: repo,
      'include-git-history': 'true',
      'encryption-recipients': recipients.old,
      exclude: '.git',
    },
    env: { GITHUB_SHA: await git(repo, 'rev-parse', 'HEAD') },
  });
  if (run.code !== 0) throw new Error(run.stdout);
  backupFile = run.outputs['backup-file']!;
}, 120_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('keygen writes an identity file the age tool reads, mode 600, and never overwrites it', async () => {
  expect(statSync(keys.old).mode & 0o777).toBe(0o600);
  const text = readFileSync(keys.old, 'utf8');
  expect(text).toMatch(/^# created: .+\n# public key: age1\S+\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/);
  expect((await exec('age-keygen', ['-y', keys.old])).stdout.trim()).toBe(recipients.old);
  const again = await runCli(['keygen', '--output', keys.old]);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain('never overwrites an identity');
  expect(readFileSync(keys.old, 'utf8')).toBe(text);
  const printed = await runCli(['keygen']);
  expect(printed.stdout).toMatch(/^AGE-SECRET-KEY-1/m);
  expect(printed.stderr).toContain('keep it off CI');
});

test('the git bundle is an age file beside the archive, restorable with --history and the identity', async () => {
  expect(backupFile).toMatch(/\.tar\.gz\.age$/);
  const bundleKey = `backups/${TENANT}/${backupFile.replace('.tar.gz.age', '.bundle.age')}`;
  const stored = await aws(stack, 's3', 'cp', `s3://${BUCKET}/${bundleKey}`, '-');
  expect(stored.startsWith('age-encryption.org/v1\n')).toBe(true);
  expect(stored).not.toContain('git bundle');
  const refused = await cli(
    'restore',
    '--tenant',
    TENANT,
    '--backup',
    backupFile,
    '--history',
    '--target',
    join(work, 'h0'),
  );
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(recipientFingerprint(recipients.old));
  const target = join(work, 'h1');
  const run = await cli(
    'restore',
    '--tenant',
    TENANT,
    '--backup',
    backupFile,
    '--history',
    '--target',
    target,
    '--identity',
    keys.old,
  );
  expect(run.code).toBe(0);
  expect(await refsOf(target)).toBe(await refsOf(repo));
});

test('rekey stores a new backup for the new key; it restores with the new identity only, the old one stays', async () => {
  const fresh = await keygen('new');
  keys.new = fresh.file;
  recipients.new = fresh.recipient;
  const list = join(work, 'recipients.txt');
  writeFileSync(list, `# the new team key\n${recipients.new}\n`);
  const run = await cli(
    'rekey',
    '--tenant',
    TENANT,
    '--backup',
    backupFile,
    '--recipients',
    list,
    '--identity',
    keys.old,
  );
  expect(run.stderr).not.toContain('AGE-SECRET-KEY');
  expect(run.code).toBe(0);
  const rekeyed = backupFile.replace(/^(\d{8}-\d{6})/, '$1-2');
  expect(run.stdout).toContain(`Rekeyed ${backupFile} as ${rekeyed}`);

  const all = await records();
  const before = all.find((r) => r.backup_file === backupFile)!;
  const after = all.find((r) => r.backup_file === rekeyed)!;
  expect(after).toMatchObject({
    action: 'rekey',
    encrypted: true,
    recipients: [recipientFingerprint(recipients.new)],
    commit: before.commit,
    branch: before.branch,
    created_at: before.created_at,
    verification: 'verified',
  });
  expect(after.sha256).not.toBe(before.sha256);
  expect(before.recipients).toEqual([recipientFingerprint(recipients.old)]);

  // The new archive with the new identity: the same tree as the old one with the old identity.
  const fromNew = join(work, 'new-tree');
  expect(
    (
      await cli(
        'restore',
        '--tenant',
        TENANT,
        '--backup',
        rekeyed,
        '--target',
        fromNew,
        '--identity',
        keys.new,
      )
    ).code,
  ).toBe(0);
  const fromOld = join(work, 'old-tree');
  expect(
    (
      await cli(
        'restore',
        '--tenant',
        TENANT,
        '--backup',
        backupFile,
        '--target',
        fromOld,
        '--identity',
        keys.old,
      )
    ).code,
  ).toBe(0);
  expect(snapshotTree(fromNew)).toEqual(snapshotTree(fromOld));
  expect(readFileSync(join(fromNew, 'a.txt'), 'utf8')).toBe('one\n');

  // The old identity no longer opens the new backup.
  const refused = await cli(
    'restore',
    '--tenant',
    TENANT,
    '--backup',
    rekeyed,
    '--target',
    join(work, 'nope'),
    '--identity',
    keys.old,
  );
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/None of the identities given .* can decrypt/);

  // Nor does age itself, while the new one does (the header was rewritten).
  const file = join(work, rekeyed);
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/backups/${TENANT}/${rekeyed}`, file, '--only-show-errors');
  await expect(exec('age', ['-d', '-i', keys.old, '-o', '/dev/null', file])).rejects.toThrow(
    /no identity matched/,
  );
  await exec('age', ['-d', '-i', keys.new, '-o', '/dev/null', file]);

  // The rekeyed bundle restores too.
  const history = join(work, 'new-history');
  const restored = await runCli(
    ['restore', '--tenant', TENANT, '--backup', rekeyed, '--history', '--target', history],
    { ...workerEnv(stack, TOKEN), R2_BACKUP_IDENTITY: keys.new },
  );
  expect(restored.code).toBe(0);
  expect(await refsOf(history)).toBe(await refsOf(repo));
});

test('rekey refuses a secret key among the recipients, without echoing it', async () => {
  const list = join(work, 'bad-recipients.txt');
  writeFileSync(list, readFileSync(keys.new, 'utf8'));
  const secret = await cli(
    'rekey',
    '--tenant',
    TENANT,
    '--backup',
    backupFile,
    '--recipients',
    list,
    '--identity',
    keys.old,
  );
  expect(secret.code).toBe(2);
  expect(secret.stderr).toContain('is a secret key');
  expect(secret.stderr).not.toMatch(/AGE-SECRET-KEY-1[0-9A-Z]{10}/);
});
