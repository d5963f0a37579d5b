// Hostile archives end to end (issue 16): each stored in R2 with a record that matches it, then
// brought back by `node dist/cli/index.js restore`. Refused, or restored exactly; nothing outside
// the target changes, the target is left as it was, no staging is left beside it, and no
// restore takes long. Also: a replaced object writes nothing, and --force keeps the target.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { archiveKey } from '../../common/naming.js';
import { COMMIT, runAction, s3Inputs } from '../action/helpers.js';
import { RestoreInputs } from '../../action/constants.js';
import { apiClient, s3Client } from '../worker/helpers.js';
import { fullEnv, runCli, workerEnv } from '../cli/helpers.js';
import {
  HOSTILE_CASES,
  MEMORY_LIMIT_MIB,
  describeTree,
  dir,
  file,
  makeBox,
  modesOf,
  outsideState,
  symlink,
  symlinksOf,
  tar,
  zeroBomb,
  type HostileCase,
  type Place,
} from '../helpers/hostile-archives.js';

const TOKEN = sharedStackToken();
const TENANT = 'tenant-a';
const BUCKET = `${TENANT}-github-backup`;
// A few seconds of extraction, plus the CLI's start and its round trips to the local stack.
const TIME_LIMIT_MS = 8000;

let stack: LocalStack;
let s3: S3Client;
let work: string;
let stored = 0;
let boxes = 0;

beforeAll(async () => {
  stack = await sharedStack();
  s3 = s3Client(stack);
  work = mkdtempSync(join(tmpdir(), 'r2-backup-hostile-'));
}, 120_000);
afterAll(async () => {
  s3?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Stores `object` as a backup with a record of `recorded`'s size and SHA-256 (by default the
 *  object's own: a record that matches). Returns the backup's file name. */
async function store(object: Buffer, compression: 'none' | 'gzip', recorded = object): Promise<string> {
  const backupFile = `20210202-000000-${++stored}${compression === 'gzip' ? '.tar.gz' : '.tar'}`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: archiveKey(TENANT, backupFile), Body: object }));
  const response = await apiClient(stack, TOKEN).post('/api/github/backup', {
    tenant: TENANT,
    bucket: BUCKET,
    repo: `octo-org/${TENANT}`,
    branch: 'main',
    commit: COMMIT,
    backup_file: backupFile,
    action: 'backup',
    compression,
    size: recorded.length,
    sha256: sha256(recorded),
  });
  expect(response.status).toBe(201);
  return backupFile;
}

async function restore(
  backupFile: string,
  target: string,
  flags: string[] = [],
  env = fullEnv(stack, TOKEN),
) {
  const started = performance.now();
  const run = await runCli(
    ['restore', '--tenant', TENANT, '--backup', backupFile, '--target', target, ...flags],
    env,
  );
  return { ...run, ms: performance.now() - started };
}

const newBox = (): Place => makeBox(join(work, `box-${++boxes}`), { makeTarget: false });
const staging = (box: string): string[] => readdirSync(box).filter((name) => name.includes('.restore-'));
/** The `  <path> -> <target>` lines after the "symbolic link" heading, paths relative to the target. */
function listedSymlinks(stdout: string, target: string): string[] {
  const lines = stdout.split('\n');
  const heading = lines.findIndex((line) => /symbolic link/.test(line));
  if (heading < 0) return [];
  return lines
    .slice(heading + 1)
    .filter((line) => / -> /.test(line) && line.startsWith('  '))
    .map((line) => line.slice(2).replace(`${target}/`, ''))
    .sort();
}

test.each(HOSTILE_CASES.map((c) => [c.name, c] as [string, HostileCase]))('%s', async (_name, c) => {
  const place = newBox();
  const backupFile = await store(c.archive(place), c.compression);
  const before = outsideState(place.box);
  const limit = c.maxBytes === undefined ? [] : ['--max-bytes', String(c.maxBytes)];
  const run = await restore(backupFile, place.target, limit);

  expect(outsideState(place.box)).toEqual(before);
  expect(staging(place.box)).toEqual([]);
  expect(run.ms).toBeLessThan(TIME_LIMIT_MS);
  if (c.refused && (run.code !== 0 || !c.restored)) {
    expect({ code: run.code, targetExists: existsSync(place.target) }).toEqual({
      code: 1,
      targetExists: false,
    });
    // The spec's messages, wherever the CLI's prefix puts them; the record matched, so the
    // refusal is about the archive, and it names no staging directory.
    expect(run.stderr).toMatch(new RegExp(c.refused.source.replace(/^\^/, ''), c.refused.flags));
    expect(run.stderr).not.toMatch(/does not match its metadata/);
    expect(run.stderr).not.toMatch(/\.restore-/);
    for (const line of run.stderr.split('\n')) expect(line.length).toBeLessThanOrEqual(1024);
  } else {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(describeTree(place.target)).toEqual(c.restored);
    const links = symlinksOf(c.restored!).map(({ path, target }) => `${path} -> ${target}`);
    expect(listedSymlinks(run.stdout, place.target)).toEqual(links.sort());
    expect(modesOf(place.target, c.modes)).toEqual(c.modes ?? {});
  }
});

// Loaded into the CLI's process: its peak RSS (KiB) on stderr as it exits. Single quotes only,
// as NODE_OPTIONS reads double quotes as its own.
const REPORT_PEAK_RSS =
  "--import=data:text/javascript,process.on('exit',()=>process.stderr.write('peak-rss-kib:'+process.resourceUsage().maxRSS))";

test.each(HOSTILE_CASES.filter((c) => c.boundedMemory).map((c) => [c.name, c] as [string, HostileCase]))(
  '%s: the restoring process stays small',
  async (_name, c) => {
    const place = newBox();
    const backupFile = await store(c.archive(place), c.compression);
    const run = await restore(backupFile, place.target, [], {
      ...fullEnv(stack, TOKEN),
      NODE_OPTIONS: REPORT_PEAK_RSS,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(c.refused!);
    const peak = /peak-rss-kib:(\d+)/.exec(run.stderr);
    expect(peak).not.toBeNull();
    expect(Number(peak![1]) / 1024).toBeLessThan(MEMORY_LIMIT_MIB);
  },
);

test('a decompression bomb stops at --max-bytes and leaves nothing', async () => {
  const place = newBox();
  const backupFile = await store(await zeroBomb(200 * 1024 * 1024), 'gzip');
  const before = outsideState(place.box);
  const run = await restore(backupFile, place.target, ['--max-bytes', String(10 * 1024 * 1024)]);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/limit/);
  expect(run.ms).toBeLessThan(TIME_LIMIT_MS);
  expect(existsSync(place.target)).toBe(false);
  expect(staging(place.box)).toEqual([]);
  expect(outsideState(place.box)).toEqual(before);
});

test('a replaced object is refused before any entry is written', async () => {
  // The stored object escapes through `d//t` if extracted; the record is of a harmless archive
  // of the same size, so only the SHA-256 tells them apart.
  const hostile = tar([symlink('s', '.'), symlink('d//t', '../s/..'), file('d/t/victim.txt', 'pwned')]);
  const recorded = tar([dir('a/'), dir('b/'), file('c', 'fine!')]);
  expect(recorded.length).toBe(hostile.length);
  const backupFile = await store(hostile, 'none', recorded);
  const place = newBox();
  const before = outsideState(place.box);
  for (const env of [fullEnv(stack, TOKEN), workerEnv(stack, TOKEN)]) {
    const run = await restore(backupFile, place.target, [], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/does not match its metadata/);
    expect(run.stderr).toMatch(/Nothing was written/);
    expect(run.stderr).not.toMatch(/Refused archive entry/);
    expect(existsSync(place.target)).toBe(false);
    expect(staging(place.box)).toEqual([]);
    expect(outsideState(place.box)).toEqual(before);
  }
});

test('--force onto a non-empty target with a hostile archive leaves the target exactly as it was', async () => {
  const place = newBox();
  mkdirSync(join(place.target, 'src/deep'), { recursive: true });
  writeFileSync(join(place.target, 'precious.txt'), 'mine\n');
  writeFileSync(join(place.target, 'src/deep/main.ts'), 'export {};\n');
  const backupFile = await store(
    tar([
      file('precious.txt', 'replaced'),
      symlink('s', '.'),
      symlink('d/./t', '../s/..'),
      file('d/t/victim.txt'),
    ]),
    'none',
  );
  // outsideState of the target itself: its entries with modes, contents and mtimes.
  const target = outsideState(place.target);
  const before = outsideState(place.box);
  const run = await restore(backupFile, place.target, ['--force']);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/goes through the archive's symbolic link/);
  expect(outsideState(place.target)).toEqual(target);
  expect(outsideState(place.box)).toEqual(before);
  expect(staging(place.box)).toEqual([]);
});

describe('the restore sub-action (node dist/restore/index.js, as the runner runs it)', () => {
  const step = (backupFile: string, target: string) =>
    runAction({
      script: 'dist/restore/index.js',
      inputs: {
        ...s3Inputs(stack),
        [RestoreInputs.ApiUrl]: stack.url,
        [RestoreInputs.ApiToken]: TOKEN,
        [RestoreInputs.Tenant]: TENANT,
        [RestoreInputs.Backup]: backupFile,
        [RestoreInputs.Target]: target,
      },
    });
  const aliasing = () =>
    tar([symlink('s', '.'), symlink('d//t', '../s/..'), file('d/t/victim.txt', 'pwned')]);

  test('a replaced object is refused before any entry is written', async () => {
    const hostile = aliasing();
    const recorded = tar([dir('a/'), dir('b/'), file('c', 'fine!')]);
    expect(recorded.length).toBe(hostile.length);
    const backupFile = await store(hostile, 'none', recorded);
    const place = newBox();
    const before = outsideState(place.box);
    const run = await step(backupFile, place.target);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(/::error::.*does not match its metadata.*Nothing was written/);
    expect(run.stdout).not.toMatch(/Refused archive entry/);
    expect(existsSync(place.target)).toBe(false);
    expect(staging(place.box)).toEqual([]);
    expect(outsideState(place.box)).toEqual(before);
  });

  test('an archive aliasing its way out through its own symbolic links is refused, nothing outside touched', async () => {
    const backupFile = await store(aliasing(), 'none');
    const place = newBox();
    const before = outsideState(place.box);
    const run = await step(backupFile, place.target);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(
      /::error::Refused archive entry "d\/t\/victim.txt": goes through the archive's symbolic link/,
    );
    expect(existsSync(place.target)).toBe(false);
    expect(staging(place.box)).toEqual([]);
    expect(outsideState(place.box)).toEqual(before);
  });
});
