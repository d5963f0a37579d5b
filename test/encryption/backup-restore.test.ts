// Client-side encryption end to end (issue 21): backups made by `node dist/index.js` with
// encryption-recipients are age files in R2 (no plaintext in them), recorded with their
// recipients' fingerprints, and restore only with one of their identities, through the CLI
// and the restore sub-action; a wrong identity, a changed byte and a record made to match a
// changed ciphertext are refused with the target left as it was; the `age` tool reads them.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateHybridIdentity, generateIdentity, identityToRecipient } from 'age-encryption';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { clockStartingAt } from '../helpers/test-clock.js';
import { snapshotTree } from '../helpers/tree.js';
import { SEED_EXCLUDES, aws, excludedBy, makeFixtureTree, runAction, s3Inputs } from '../action/helpers.js';
import { apiClient } from '../worker/helpers.js';
import { fullEnv, runCli } from '../cli/helpers.js';
import { recipientFingerprint } from '../../core/crypto/recipients.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const TENANT = 'tenant-b';
const BUCKET = 'tenant-b-github-backup';
let stack: LocalStack;
let tree: string;
let work: string;
const MARKER = `plaintext-marker-${randomBytes(12).toString('hex')}`;

interface KeyPair {
  identity: string;
  recipient: string;
  file: string;
}
const keys: Record<'team' | 'escrow' | 'stranger', KeyPair> = {} as never;
/** Backup files by case. */
const files: Record<string, string> = {};

async function keyPair(name: string, hybrid = false): Promise<KeyPair> {
  const identity = hybrid ? await generateHybridIdentity() : await generateIdentity();
  const file = join(work, `${name}.key`);
  writeFileSync(file, `# ${name}\n${identity}\n`, { mode: 0o600 });
  return { identity, recipient: await identityToRecipient(identity), file };
}

async function backup(extra: Record<string, string>, secondsAgo: number) {
  const run = await runAction({
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: TENANT,
      path: tree,
      ...extra,
    },
    env: clockStartingAt(new Date(Date.now() - secondsAgo * 1000)),
  });
  if (run.code !== 0) throw new Error(run.stdout);
  return run;
}

const download = async (key: string): Promise<string> => {
  const file = join(work, `dl-${randomBytes(4).toString('hex')}-${key.split('/').pop()}`);
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, file, '--only-show-errors');
  return file;
};
const source = () => snapshotTree(tree, excludedBy(SEED_EXCLUDES));
/** The log without the runner's mask commands (which name what they mask). */
const withoutMasks = (log: string): string =>
  log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
let targets = 0;
const freshTarget = (): string => join(work, `target-${++targets}`);
const restore = (file: string, target: string, env: Record<string, string> = {}, ...flags: string[]) =>
  runCli(['restore', '--tenant', TENANT, '--backup', file, '--target', target, ...flags], {
    ...fullEnv(stack, TOKEN),
    ...env,
  });

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-encryption-'));
  tree = makeFixtureTree(2 * 1024 * 1024 + 5);
  writeFileSync(join(tree, 'marker.txt'), `${MARKER}\n`.repeat(50));
  keys.team = await keyPair('team');
  keys.escrow = await keyPair('escrow', true);
  keys.stranger = await keyPair('stranger');
  const one = keys.team.recipient;
  const two = `# team\n${keys.team.recipient}\n# escrow (post-quantum)\n${keys.escrow.recipient}\n`;
  files.zstd = (await backup({ compression: 'zstd', 'encryption-recipients': one }, 6)).outputs[
    'backup-file'
  ]!;
  files.gzip = (await backup({ compression: 'gzip', 'encryption-recipients': two }, 5)).outputs[
    'backup-file'
  ]!;
  files.none = (await backup({ compression: 'none', 'encryption-recipients': one }, 4)).outputs[
    'backup-file'
  ]!;
  files.plain = (await backup({ compression: 'none' }, 3)).outputs['backup-file']!;
}, 180_000);
afterAll(() => {
  for (const dir of [tree, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test('encrypted backups are named .age and recorded as encrypted, with fingerprints only', async () => {
  expect(files.zstd).toMatch(/^\d{8}-\d{6}\.tar\.zst\.age$/);
  expect(files.gzip).toMatch(/^\d{8}-\d{6}\.tar\.gz\.age$/);
  expect(files.plain).toMatch(/^\d{8}-\d{6}\.tar$/);
  const listed = (await (
    await apiClient(stack, TOKEN)(`/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}&limit=50`)
  ).json()) as {
    backups: Record<string, unknown>[];
  };
  const record = (file: string) => listed.backups.find((r) => r.backup_file === file)!;
  expect(record(files.zstd!)).toMatchObject({
    encrypted: true,
    recipients: [recipientFingerprint(keys.team.recipient)],
    verification: 'verified',
  });
  expect(record(files.gzip!).recipients).toEqual(
    [keys.team.recipient, keys.escrow.recipient].map(recipientFingerprint),
  );
  expect(record(files.plain!).encrypted).toBeUndefined();
  // The record's size and SHA-256 are of the stored (encrypted) bytes.
  const stored = readFileSync(await download(`backups/${TENANT}/${files.zstd}`));
  expect(record(files.zstd!).size).toBe(stored.length);
  expect(record(files.zstd!).sha256).toBe(createHash('sha256').update(stored).digest('hex'));
  expect(stored.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
  expect(JSON.stringify(listed)).not.toContain(keys.team.recipient);
});

test('verify --deep checks encrypted backups without any key (their hashes are of the ciphertext)', async () => {
  const run = await runCli(['verify', '--tenant', TENANT, '--deep'], fullEnv(stack, TOKEN));
  expect(run.stdout + run.stderr).not.toContain('AGE-SECRET-KEY');
  expect(run.code).toBe(0);
  // The three encrypted backups and the plain one, each read and hashed.
  expect(run.stdout).toMatch(/^4 backups of tenant tenant-b .* checked \(size and SHA-256\): all whole$/m);
});

test('no plaintext marker anywhere in the stored object (it is in the unencrypted one)', async () => {
  const plain = readFileSync(await download(`backups/${TENANT}/${files.plain}`));
  expect(plain.includes(MARKER)).toBe(true);
  for (const file of [files.none!, files.zstd!, files.gzip!]) {
    const stored = readFileSync(await download(`backups/${TENANT}/${file}`));
    expect(stored.includes(MARKER)).toBe(false);
    expect(stored.includes('marker.txt')).toBe(false);
  }
});

test('round trip with one recipient: --identity FILE restores the tree', async () => {
  const target = freshTarget();
  const run = await restore(files.zstd!, target, {}, '--identity', keys.team.file);
  expect(run.stderr + run.stdout).not.toContain(keys.team.identity);
  expect(run.code).toBe(0);
  expect(snapshotTree(target)).toEqual(source());
});

test('two recipients: either identity restores (R2_BACKUP_IDENTITY as text, then as a path)', async () => {
  const first = freshTarget();
  expect((await restore(files.gzip!, first, { R2_BACKUP_IDENTITY: keys.team.identity })).code).toBe(0);
  expect(snapshotTree(first)).toEqual(source());
  const second = freshTarget();
  expect((await restore(files.gzip!, second, { R2_BACKUP_IDENTITY: keys.escrow.file })).code).toBe(0);
  expect(snapshotTree(second)).toEqual(source());
});

test('the restore sub-action decrypts with its identity input, masked', async () => {
  const target = freshTarget();
  const run = await runAction({
    script: 'dist/restore/index.js',
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: TENANT,
      backup: files.gzip!,
      target,
      identity: `# escrow\n${keys.escrow.identity}\n`,
    },
  });
  expect(run.stdout).toContain(`::add-mask::${keys.escrow.identity}`);
  expect(withoutMasks(run.stdout)).not.toContain(keys.escrow.identity);
  expect(run.code).toBe(0);
  expect(snapshotTree(target)).toEqual(source());
});

test('without an identity: stopped before downloading, naming the recipients', async () => {
  const target = freshTarget();
  const run = await restore(files.gzip!, target);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain('is encrypted with age for the recipients with fingerprints');
  expect(run.stderr).toContain(recipientFingerprint(keys.escrow.recipient));
  expect(run.stderr).toContain('--identity FILE or R2_BACKUP_IDENTITY');
  expect(run.stderr).toContain('Nothing was downloaded');
  expect(existsSync(target)).toBe(false);
});

test('a wrong identity is refused, nothing written: the target stays as it was', async () => {
  const target = freshTarget();
  mkdirSync(target);
  writeFileSync(join(target, 'keep.txt'), 'mine\n');
  const run = await restore(files.zstd!, target, {}, '--force', '--identity', keys.stranger.file);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/None of the identities given .* can decrypt/);
  expect(readdirSync(target)).toEqual(['keep.txt']);
  expect(readdirSync(work).filter((name) => name.includes('.restore-'))).toEqual([]);
});

test('a flipped byte in the ciphertext is refused by the SHA-256 check; a record made to match it, by age', async () => {
  const key = `backups/${TENANT}/${files.zstd}`;
  const original = readFileSync(await download(key));
  const flipped = Buffer.from(original);
  flipped[flipped.length - 100]! ^= 0x01;
  const tampered = join(work, 'tampered.age');
  writeFileSync(tampered, flipped);

  const good = join(work, 'good.age');
  writeFileSync(good, original);
  try {
    await refusedTampered(key, tampered, flipped);
  } finally {
    // The good archive back, for the other cases.
    await aws(stack, 's3', 'cp', good, `s3://${BUCKET}/${key}`, '--only-show-errors');
  }
});

async function refusedTampered(key: string, tampered: string, flipped: Buffer): Promise<void> {
  // Replaced in place: the record's SHA-256 no longer matches.
  await aws(stack, 's3', 'cp', tampered, `s3://${BUCKET}/${key}`, '--only-show-errors');
  const target = freshTarget();
  mkdirSync(target);
  writeFileSync(join(target, 'keep.txt'), 'mine\n');
  const run = await restore(files.zstd!, target, {}, '--force', '--identity', keys.team.file);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain('does not match its metadata');
  expect(readdirSync(target)).toEqual(['keep.txt']);

  // A record that matches the changed ciphertext (size and SHA-256): age's authentication refuses it.
  const forged = files.zstd!.replace(/^(\d{8}-\d{6})/, '$1-7');
  await aws(stack, 's3', 'cp', tampered, `s3://${BUCKET}/backups/${TENANT}/${forged}`, '--only-show-errors');
  const recorded = await apiClient(stack, TOKEN).post('/api/github/backup', {
    tenant: TENANT,
    bucket: BUCKET,
    repo: 'octo-org/autonomous-coding-agent',
    branch: 'main',
    commit: 'fedcba9876543210fedcba9876543210fedcba98',
    backup_file: forged,
    action: 'upload',
    size: flipped.length,
    sha256: createHash('sha256').update(flipped).digest('hex'),
    compression: 'zstd',
    encrypted: true,
    recipients: [recipientFingerprint(keys.team.recipient)],
  });
  expect(recorded.status).toBe(201);
  const forgedRun = await restore(forged, target, {}, '--force', '--identity', keys.team.file);
  expect(forgedRun.code).toBe(1);
  expect(forgedRun.stderr).toContain('fails its decryption');
  expect(readdirSync(target)).toEqual(['keep.txt']);
  expect(readdirSync(work).filter((name) => name.includes('.restore-'))).toEqual([]);
}

test('interop: age -d -i key.txt x.tar.zst.age | zstd -d | tar -x gives the tree', async () => {
  const file = await download(`backups/${TENANT}/${files.zstd}`);
  const dir = join(work, 'age-cli');
  mkdirSync(dir);
  await exec('sh', ['-c', 'age -d -i "$1" "$2" | zstd -d | tar -x -C "$3"', 'sh', keys.team.file, file, dir]);
  expect(snapshotTree(dir)).toEqual(source());
  // And a stranger's key is refused by age itself.
  await expect(exec('age', ['-d', '-i', keys.stranger.file, '-o', '/dev/null', file])).rejects.toThrow(
    /no identity matched/,
  );
});

test('a secret key in encryption-recipients is refused as one and masked; sync-files is refused with it', async () => {
  const secret = await runAction({
    inputs: {
      ...s3Inputs(stack),
      tenant: TENANT,
      path: tree,
      'encryption-recipients': `${keys.team.recipient}\n${keys.team.identity}\n`,
    },
  });
  expect(secret.code).toBe(1);
  expect(secret.stdout).toContain('Invalid encryption-recipients (line 2): is a secret key');
  expect(secret.stdout).toContain(`::add-mask::${keys.team.identity}`);
  expect(withoutMasks(secret.stdout)).not.toContain(keys.team.identity);
  const bad = await runAction({
    inputs: { ...s3Inputs(stack), tenant: TENANT, path: tree, 'encryption-recipients': 'age1nope' },
  });
  expect(bad.stdout).toContain('Invalid encryption-recipients (line 1): must be an age recipient');
  const mirror = await runAction({
    inputs: {
      ...s3Inputs(stack),
      tenant: TENANT,
      path: tree,
      'sync-files': 'true',
      'encryption-recipients': keys.team.recipient,
    },
  });
  expect(mirror.code).toBe(1);
  expect(mirror.stdout).toContain('Invalid sync-files: cannot be used with encryption-recipients');
  expect(mirror.stdout).toContain('Nothing was uploaded');
});
