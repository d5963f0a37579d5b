// Nothing stored is lost to the catalogue (issue 24, point 1): a run whose Worker call fails
// leaves an archive that carries its record's facts in its own metadata; `verify --repair` and
// the next successful run record it after the fact (checked, signed, marked repaired), hostile
// metadata is refused, in-flight claims are left, and `restore --latest` never passes over it.
// Archives must be 5 minutes old to be repaired: the repairing processes run on a clock 6
// minutes ahead (within what R2's S3 endpoint accepts).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { recipientFingerprint } from '../../core/crypto/recipients.js';
import type { LocalStack } from '../../scripts/local-stack.js';
import {
  COMMIT,
  aws,
  listKeys,
  makeFixtureTree,
  runAction,
  s3Inputs,
  type RunResult,
} from '../action/helpers.js';
import { startFaultProxy, throughProxy } from '../helpers/fault-proxy.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { clockStartingAt } from '../helpers/test-clock.js';
import { fullEnv, runCli, workerEnv } from './helpers.js';

const TENANT = 'tenant-a';
const BUCKET = 'tenant-a-github-backup';
const HOSTILE_TENANT = 'tenant-b';
const HOSTILE_BUCKET = 'tenant-b-github-backup';
let stack: LocalStack;
let TOKEN: string;
let tree: string;
const dirs: string[] = [];
const later = (): Record<string, string> => clockStartingAt(new Date(Date.now() + 6 * 60 * 1000));

beforeAll(async () => {
  stack = await sharedStack();
  TOKEN = sharedStackToken();
  // Over one 8 MiB part (gzip does not shrink random bytes): a multipart upload, whose SHA-256
  // (known only at its end) the repair computes by reading the object.
  tree = makeFixtureTree(9 * 1024 * 1024);
}, 60_000);
afterAll(() => {
  for (const dir of [tree, ...dirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const backup = async (
  recorded: boolean,
  env: Record<string, string> = {},
  inputs: Record<string, string> = {},
): Promise<RunResult> => {
  const run = await runAction({
    inputs: {
      ...s3Inputs(stack),
      tenant: TENANT,
      path: tree,
      ...(recorded && { 'api-url': stack.url, 'api-token': TOKEN }),
      ...inputs,
    },
    env,
  });
  if (run.code !== 0) throw new Error(run.stdout + run.stderr);
  return run;
};

const headMetadata = async (bucket: string, key: string): Promise<Record<string, string>> =>
  (
    JSON.parse(await aws(stack, 's3api', 'head-object', '--bucket', bucket, '--key', key)) as {
      Metadata: Record<string, string>;
    }
  ).Metadata;

const recordOf = async (bucket: string, tenant: string, file: string): Promise<Record<string, unknown>> =>
  JSON.parse(
    await aws(stack, 's3', 'cp', `s3://${bucket}/backups/${tenant}/metadata/${file}.json`, '-'),
  ) as Record<string, unknown>;

const target = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'r2-backup-repair-'));
  dirs.push(dir);
  return join(dir, 'restored');
};

let recordedRun: RunResult;
let unrecorded: RunResult;

test('a run without the Worker stores an archive whose metadata holds its record', async () => {
  recordedRun = await backup(true);
  unrecorded = await backup(false);
  const metadata = await headMetadata(BUCKET, unrecorded.outputs['backup-key']!);
  expect(metadata).toMatchObject({
    'r2-backup-commit': COMMIT,
    'r2-backup-branch': 'main',
    'r2-backup-repo': encodeURIComponent('octo-org/autonomous-coding-agent'),
    'r2-backup-compression': 'gzip',
  });
  // Known only at the end, which a multipart upload cannot add to its object: the repair reads it.
  expect(metadata['r2-backup-sha256']).toBeUndefined();
  expect(Number(unrecorded.outputs.size)).toBeGreaterThan(8 * 1024 * 1024);
}, 120_000);

test('restore --latest does not pass over the newer unrecorded archive', async () => {
  const file = unrecorded.outputs['backup-file']!;
  const into = target();
  const s3Only = Object.fromEntries(
    Object.entries(fullEnv(stack, TOKEN)).filter(([name]) => !name.startsWith('R2_BACKUP_API')),
  );
  for (const env of [workerEnv(stack, TOKEN), fullEnv(stack, TOKEN), s3Only]) {
    const latest = await runCli(['restore', '--tenant', TENANT, '--latest', '--target', into], env);
    expect(latest.code).not.toBe(0);
    expect(latest.stderr).toContain(
      `The newest archive in tenant ${TENANT}, bucket ${BUCKET}, ${file}, has no record`,
    );
    expect(latest.stderr).toContain(recordedRun.outputs['backup-file']!);
    expect(latest.stderr).toContain('r2-backup verify --repair');
  }
  const byName = await runCli(
    ['restore', '--tenant', TENANT, '--backup', file, '--target', into],
    fullEnv(stack, TOKEN),
  );
  expect(byName.code).not.toBe(0);
  expect(byName.stderr).toContain(`No backup ${file}`);
  // The restore sub-action too.
  const step = await runAction({
    script: 'dist/restore/index.js',
    inputs: { 'api-url': stack.url, 'api-token': TOKEN, tenant: TENANT, target: into },
  });
  expect(step.code).not.toBe(0);
  expect(step.stdout).toContain(`${file}, has no record`);
}, 120_000);

test('verify reports the unrecorded archive, --repair records it, signed and marked repaired', async () => {
  const file = unrecorded.outputs['backup-file']!;
  const args = ['verify', '--tenant', TENANT];
  const workerOnly = await runCli(args, workerEnv(stack, TOKEN));
  expect(workerOnly.code).toBe(1);
  expect(workerOnly.stdout).toContain(`PROBLEM ${file}: the archive has no record`);
  // Too recent on the real clock: a running backup's, left alone.
  const recent = await runCli([...args, '--repair'], fullEnv(stack, TOKEN));
  expect(recent.code).toBe(1);
  expect(recent.stdout).toMatch(new RegExp(`${file}: not recorded, stored .* ago, less than`));
  const dry = await runCli(args, { ...fullEnv(stack, TOKEN), ...later() });
  expect(dry.code).toBe(1);
  expect(dry.stdout).toContain(`${file}: would be recorded from its object metadata`);
  expect(dry.stdout).toContain(`PROBLEM ${file}: the archive has no record (verify --repair records it)`);
  expect(await listKeys(stack, BUCKET, `backups/${TENANT}/metadata/${file}`)).toEqual([]);

  const repaired = await runCli([...args, '--repair'], { ...fullEnv(stack, TOKEN), ...later() });
  expect(repaired.stdout).toContain(`${file}: recorded after the fact from its object metadata`);
  expect(repaired.code).toBe(0);
  const record = await recordOf(BUCKET, TENANT, file);
  expect(record).toMatchObject({
    recorded_by: 'repair',
    commit: COMMIT,
    branch: 'main',
    size: Number(unrecorded.outputs.size),
    sha256: unrecorded.outputs.sha256,
  });
  expect(record.signature).toMatch(/^[0-9a-f]{64}$/);

  const clean = await runCli([...args, '--deep'], fullEnv(stack, TOKEN));
  expect(clean.code).toBe(0);
  expect(clean.stdout).toContain(`${file}: recorded after the fact (recorded_by: repair)`);
  const list = await runCli(['list', '--tenant', TENANT], workerEnv(stack, TOKEN));
  expect(list.stdout).toMatch(new RegExp(`verified, repaired .*${file.replace(/\./g, '\\.')}`));
  const into = target();
  const restored = await runCli(
    ['restore', '--tenant', TENANT, '--latest', '--target', into],
    fullEnv(stack, TOKEN),
  );
  expect(restored.code).toBe(0);
  expect(restored.stdout).toContain(`Restored ${file}`);
  expect(restored.stderr).toContain('was made after the fact (recorded_by: repair');
  expect(readFileSync(join(into, 'README.md'), 'utf8')).toBe('# fixture\n');
}, 180_000);

test('the next successful run records an older unrecorded archive by itself', async () => {
  const missed = await backup(false);
  const file = missed.outputs['backup-file']!;
  const next = await backup(true, later());
  expect(next.stdout).toContain(
    `Catalogue repair: ${file}: recorded after the fact from its object metadata`,
  );
  expect(await recordOf(BUCKET, TENANT, file)).toMatchObject({
    recorded_by: 'repair',
    sha256: missed.outputs.sha256,
  });
  const verify = await runCli(['verify', '--tenant', TENANT], workerEnv(stack, TOKEN));
  expect(verify.stdout).not.toContain('PROBLEM');
  expect(verify.code).toBe(0);
}, 180_000);

test('an encrypted archive is recorded with its recipients, and restores with an identity', async () => {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const run = await backup(false, {}, { 'encryption-recipients': recipient });
  const file = run.outputs['backup-file']!;
  expect(file).toMatch(/\.tar\.gz\.age$/);
  const repaired = await runCli(['verify', '--tenant', TENANT, '--repair'], {
    ...fullEnv(stack, TOKEN),
    ...later(),
  });
  expect(repaired.stdout).toContain(`${file}: recorded after the fact from its object metadata`);
  expect(repaired.code).toBe(0);
  expect(await recordOf(BUCKET, TENANT, file)).toMatchObject({
    encrypted: true,
    recipients: [recipientFingerprint(recipient)],
    sha256: run.outputs.sha256,
    recorded_by: 'repair',
  });
  const dir = mkdtempSync(join(tmpdir(), 'r2-backup-identity-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'key.txt'), `${identity}\n`);
  const into = target();
  const restored = await runCli(
    ['restore', '--tenant', TENANT, '--backup', file, '--identity', join(dir, 'key.txt'), '--target', into],
    fullEnv(stack, TOKEN),
  );
  expect(restored.code).toBe(0);
  expect(readFileSync(join(into, 'README.md'), 'utf8')).toBe('# fixture\n');
}, 180_000);

test('an archive uploaded through the Worker whose record failed is repaired, its SHA-256 read from the object', async () => {
  const proxy = await startFaultProxy(Number(new URL(stack.url).port));
  let run: RunResult;
  try {
    // The record route is down; uploads go through.
    proxy.add({
      method: 'POST',
      url: /^\/api\/github\/backup$/,
      fault: { kind: 'unavailable', retryAfterSeconds: 0 },
      times: Infinity,
    });
    run = await runAction({
      inputs: { 'api-url': throughProxy(stack.url, proxy), 'api-token': TOKEN, tenant: TENANT, path: tree },
    });
  } finally {
    await proxy.close();
  }
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('but the Worker did not record it');
  const file = run.outputs['backup-file']!;
  const metadata = await headMetadata(BUCKET, run.outputs['backup-key']!);
  expect(metadata).toMatchObject({ 'r2-backup-commit': COMMIT, 'r2-backup-branch': 'main' });
  expect(metadata['r2-backup-sha256']).toBeUndefined(); // a multipart upload through the Worker

  const repaired = await runCli(['verify', '--tenant', TENANT, '--repair'], {
    ...fullEnv(stack, TOKEN),
    ...later(),
  });
  expect(repaired.stdout).toContain(
    `${file}: recorded after the fact from its object metadata (SHA-256 computed by reading the object`,
  );
  expect(repaired.code).toBe(0);
  expect(await recordOf(BUCKET, TENANT, file)).toMatchObject({
    recorded_by: 'repair',
    sha256: run.outputs.sha256,
    size: Number(run.outputs.size),
  });
}, 180_000);

describe('hostile object metadata', () => {
  const good = {
    'r2-backup-commit': COMMIT,
    'r2-backup-branch': 'main',
    'r2-backup-repo': 'octo-org%2Fapp',
    'r2-backup-compression': 'none',
    'r2-backup-sha256': 'a'.repeat(64),
  };
  const plant = async (file: string, metadata: Record<string, string>, body = 'x'.repeat(100)) => {
    const dir = mkdtempSync(join(tmpdir(), 'r2-backup-plant-'));
    dirs.push(dir);
    const path = join(dir, 'body');
    writeFileSync(path, body);
    const pairs = Object.entries(metadata)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    await aws(
      stack,
      's3api',
      'put-object',
      '--bucket',
      HOSTILE_BUCKET,
      '--key',
      `backups/${HOSTILE_TENANT}/${file}`,
      '--body',
      path,
      ...(pairs ? ['--metadata', pairs] : []),
    );
  };

  test('is refused with a message naming the field, and nothing is recorded', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        '20250101-000001.tar',
        { ...good, 'r2-backup-size': '99' },
        /r2-backup-size says 99 bytes, but the object holds 100/,
      ],
      [
        '20250101-000002.tar',
        { ...good, 'r2-backup-sha256': 'not-a-hash' },
        /r2-backup-sha256 must be 64 lowercase hexadecimal/,
      ],
      [
        '20250101-000003.tar',
        { ...good, 'r2-backup-commit': 'z'.repeat(40) },
        /r2-backup-commit must be a full commit id/,
      ],
      [
        '20250101-000004.tar',
        { ...good, 'r2-backup-branch': 'b'.repeat(1500) },
        /r2-backup-branch must be at most 255 characters/,
      ],
      [
        '20250101-000005.tar',
        { ...good, 'r2-backup-compression': 'gzip' },
        /r2-backup-compression must match backup_file's extension/,
      ],
      ['20250101-000006.tar', { ...good, 'r2-backup-size': '1e9' }, /r2-backup-size must be a whole number/],
    ];
    for (const [file, metadata] of cases) await plant(file, metadata);
    // An upload's claim (empty) and an object this action did not write.
    await plant('20250101-000007.tar', { 'r2-backup-state': 'uploading', 'r2-backup-claim': 'run-1' }, '');
    await plant('20250101-000008.tar', {});
    const repair = await runCli(['verify', '--tenant', HOSTILE_TENANT, '--repair'], {
      ...fullEnv(stack, TOKEN),
      ...later(),
    });
    expect(repair.code).toBe(1);
    for (const [file, , message] of cases) {
      expect(repair.stdout).toMatch(
        new RegExp(`REFUSED ${file.replace(/\./g, '\\.')}: its object metadata ${message.source}`),
      );
      expect(repair.stdout).toContain(`PROBLEM ${file}: the archive has no record`);
    }
    expect(repair.stdout).toContain("20250101-000007.tar: not recorded, an empty object: an upload's claim");
    expect(repair.stdout).toContain(
      '20250101-000008.tar: not recorded, its object has no r2-backup-commit metadata',
    );
    expect(await listKeys(stack, HOSTILE_BUCKET, `backups/${HOSTILE_TENANT}/metadata/`)).toEqual([]);

    // The same facts, well-formed, are recorded: the refusals came from the faults alone.
    await plant('20250101-000009.tar', { ...good, 'r2-backup-size': '100' });
    const fine = await runCli(
      ['verify', '--tenant', HOSTILE_TENANT, '--repair', '--backup', '20250101-000009.tar'],
      {
        ...fullEnv(stack, TOKEN),
        ...later(),
      },
    );
    expect(fine.stdout).toContain('20250101-000009.tar: recorded after the fact');
    expect(await listKeys(stack, HOSTILE_BUCKET, `backups/${HOSTILE_TENANT}/metadata/`)).toEqual([
      `backups/${HOSTILE_TENANT}/metadata/20250101-000009.tar.json`,
    ]);

    // No SHA-256 in the metadata (a copy that failed): the repair reads the object and says so.
    const withoutHash = Object.fromEntries(
      Object.entries(good).filter(([name]) => name !== 'r2-backup-sha256'),
    );
    await plant('20250101-000010.tar', withoutHash, 'y'.repeat(300));
    const dry = await runCli(['verify', '--tenant', HOSTILE_TENANT, '--backup', '20250101-000010.tar'], {
      ...fullEnv(stack, TOKEN),
      ...later(),
    });
    expect(dry.stdout).toContain(
      '20250101-000010.tar: would be recorded from its object metadata (its SHA-256 computed by reading the object',
    );
    const hashed = await runCli(
      ['verify', '--tenant', HOSTILE_TENANT, '--repair', '--backup', '20250101-000010.tar'],
      { ...fullEnv(stack, TOKEN), ...later() },
    );
    expect(hashed.stdout).toContain(
      '20250101-000010.tar: recorded after the fact from its object metadata (SHA-256 computed by reading the object',
    );
    expect(hashed.code).toBe(0);
    expect(await recordOf(HOSTILE_BUCKET, HOSTILE_TENANT, '20250101-000010.tar')).toMatchObject({
      sha256: createHash('sha256').update('y'.repeat(300)).digest('hex'),
      size: 300,
      recorded_by: 'repair',
    });
  }, 120_000);
});
