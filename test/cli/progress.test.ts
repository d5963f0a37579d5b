// Progress of long operations: one line on stderr every R2_BACKUP_PROGRESS_MS (default 5 s),
// never on stdout, with the sizes, rates and ETA of core/format.ts. Backups made by
// `node dist/index.js`, the CLI run as `node dist/cli/index.js` against the local stack.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes } from '../../core/format.js';
import type { LocalStack } from '../../scripts/local-stack.js';
import { makeFixtureTree, runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { clockStartingAt } from '../helpers/test-clock.js';
import { s3Client } from '../worker/helpers.js';
import { fullEnv, runCli } from './helpers.js';

const TOKEN = sharedStackToken();
const TENANT = 'tenant-a';
const BUCKET = 'tenant-a-github-backup';
const tenantArgs = ['--tenant', TENANT];
/** A line at every turn of the event loop that is 1 ms after the last. */
const OFTEN = { R2_BACKUP_PROGRESS_MS: '1' };
let stack: LocalStack;
let tree: string;
let work: string;
const made: RunResult[] = [];

beforeAll(async () => {
  stack = await sharedStack();
  tree = makeFixtureTree(24 * 1024 * 1024);
  work = mkdtempSync(join(tmpdir(), 'r2-backup-progress-'));
  for (const secondsAgo of [2, 1]) {
    const run = await runAction({
      inputs: { ...s3Inputs(stack), 'api-url': stack.url, 'api-token': TOKEN, tenant: TENANT, path: tree },
      env: clockStartingAt(new Date(Date.now() - secondsAgo * 1000)),
    });
    if (run.code !== 0) throw new Error(run.stdout);
    made.push(run);
  }
}, 120_000);
afterAll(() => {
  for (const dir of [tree, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const lines = (stderr: string, start: string): string[] =>
  stderr.split('\n').filter((line) => line.startsWith(start));
const percents = (found: string[]): number[] => found.map((line) => Number(/\((\d+)%\)/.exec(line)![1]));
const nonDecreasing = (numbers: number[]): boolean =>
  numbers.every((n, i) => i === 0 || n >= numbers[i - 1]!);
const SIZE = String.raw`\d+(\.\d)? (B|KiB|MiB|GiB)`;
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('restore: bytes downloaded of the recorded size, then the extraction, on stderr', async () => {
  const size = Number(made[1]!.outputs.size);
  const run = await runCli(['restore', ...tenantArgs, '--latest', '--target', join(work, 'often')], {
    ...fullEnv(stack, TOKEN),
    ...OFTEN,
  });
  expect(run.code).toBe(0);
  const total = escape(formatBytes(size));
  const download = lines(run.stderr, 'restore: downloaded ');
  expect(download.length).toBeGreaterThan(0);
  for (const line of download) {
    expect(line).toMatch(
      new RegExp(`^restore: downloaded ${SIZE} of ${total} \\(\\d+%\\), ${SIZE}/s(, ETA [\\d. hmins]+)?$`),
    );
  }
  expect(nonDecreasing(percents(download))).toBe(true);
  const extract = lines(run.stderr, 'restore: extracted, ');
  expect(extract.length).toBeGreaterThan(0);
  for (const line of extract) {
    expect(line).toMatch(
      new RegExp(
        `^restore: extracted, archive read ${SIZE} of ${total} \\(\\d+%\\), [\\d,]+ entries, ${SIZE}/s(, ETA [\\d. hmins]+)?$`,
      ),
    );
  }
  // The extraction's lines come after the download's, and stdout holds only the result.
  expect(run.stderr.indexOf(extract[0]!)).toBeGreaterThan(run.stderr.indexOf(download.at(-1)!));
  expect(run.stdout).not.toMatch(/^restore: /m);
  expect(run.stdout).toMatch(/^Restored /);
});

test('at the default interval (5 s), a restore of a few seconds prints no progress line', async () => {
  const started = Date.now();
  const run = await runCli(
    ['restore', ...tenantArgs, '--latest', '--target', join(work, 'default')],
    fullEnv(stack, TOKEN),
  );
  expect(run.code).toBe(0);
  if (Date.now() - started < 4000) expect(run.stderr).not.toMatch(/^restore: (downloaded|extracted)/m);
});

test('a bad R2_BACKUP_PROGRESS_MS is a usage error naming it, before anything runs', async () => {
  const target = join(work, 'bad-interval');
  const run = await runCli(['restore', ...tenantArgs, '--latest', '--target', target], {
    ...fullEnv(stack, TOKEN),
    R2_BACKUP_PROGRESS_MS: 'often',
  });
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/R2_BACKUP_PROGRESS_MS must be a whole number of milliseconds/);
  expect(run.stderr).not.toMatch(/^Restoring /m);
});

test('verify --deep: bytes hashed of all the archives, object by object', async () => {
  const total = made.reduce((sum, run) => sum + Number(run.outputs.size), 0);
  const run = await runCli(['verify', ...tenantArgs, '--deep'], { ...fullEnv(stack, TOKEN), ...OFTEN });
  expect(run.code).toBe(0);
  const found = lines(run.stderr, 'verify --deep: hashed ');
  expect(found.length).toBeGreaterThan(0);
  for (const line of found) {
    expect(line).toMatch(
      new RegExp(
        `^verify --deep: hashed ${SIZE} of ${escape(formatBytes(total))} \\(\\d+%\\), object [12] of 2, ${SIZE}/s(, ETA [\\d. hmins]+)?$`,
      ),
    );
  }
  expect(nonDecreasing(percents(found))).toBe(true);
  expect(run.stdout).not.toMatch(/hashed/);
});

test('prune: the time the Worker has taken so far, until it answers', async () => {
  const run = await runCli(['prune', ...tenantArgs, '--keep-last', '1', '--dry-run'], {
    ...fullEnv(stack, TOKEN),
    ...OFTEN,
  });
  expect(run.code).toBe(0);
  const found = lines(run.stderr, 'prune: ');
  expect(found.length).toBeGreaterThan(0);
  for (const line of found) {
    expect(line).toMatch(
      /^prune: the Worker is applying the policy to tenant tenant-a \(one request\), [\d.]+ s so far$/,
    );
  }
  expect(run.stdout).toMatch(/Dry run: 1 kept, 1 would be deleted/);
});

test('restore with R2 keys alone: records read over S3 of all of them', async () => {
  // Many records, so that reading them takes many turns of the event loop: copies of a real
  // record under other names (listed as any record; never restored here).
  const s3 = s3Client(stack);
  const record = made[0]!.outputs['backup-file']!;
  const planted = Array.from({ length: 60 }, (_, i) =>
    record.replace(/\d{8}-\d{6}/, `20240101-0000${String(i).padStart(2, '0')}`),
  );
  try {
    const answer = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: `backups/${TENANT}/metadata/${record}.json` }),
    );
    const body = await answer.Body!.transformToString();
    await Promise.all(
      planted.map((name) =>
        s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: `backups/${TENANT}/metadata/${name}.json`,
            Body: body.replaceAll(record, name),
          }),
        ),
      ),
    );
  } finally {
    s3.destroy();
  }
  const s3Only = Object.fromEntries(
    Object.entries(fullEnv(stack, TOKEN)).filter(([name]) => !name.startsWith('R2_BACKUP_')),
  );
  const run = await runCli(
    ['restore', ...tenantArgs, '--backup', made[1]!.outputs['backup-file']!, '--target', join(work, 's3')],
    { ...s3Only, ...OFTEN },
  );
  expect(run.code).toBe(0);
  const found = lines(run.stderr, 'restore: records read over S3 ');
  expect(found.length).toBeGreaterThan(0);
  for (const line of found) {
    expect(line).toMatch(
      /^restore: records read over S3 \d+ records of 62 records \(\d+%\), [\d.]+ records\/s(, ETA [\d. hmins]+)?$/,
    );
  }
  expect(nonDecreasing(percents(found))).toBe(true);
});

test('list with R2 keys alone: the records over S3 with a progress line, each with its status', async () => {
  const s3Only = Object.fromEntries(
    Object.entries(fullEnv(stack, TOKEN)).filter(([name]) => !name.startsWith('R2_BACKUP_')),
  );
  const run = await runCli(['list', ...tenantArgs, '--json'], { ...s3Only, ...OFTEN });
  expect(run.code).toBe(0);
  const records = JSON.parse(run.stdout) as { backup_file: string; status: string }[];
  // The two real backups first (newest first), then the 60 copies planted above, whose archives
  // were never stored.
  expect(records).toHaveLength(62);
  expect(records.slice(0, 2).map((r) => [r.backup_file, r.status])).toEqual([
    [made[1]!.outputs['backup-file'], 'ok'],
    [made[0]!.outputs['backup-file'], 'ok'],
  ]);
  expect(new Set(records.slice(2).map((r) => r.status))).toEqual(new Set(['missing archive']));
  const found = lines(run.stderr, 'list: records read over S3 ');
  expect(found.length).toBeGreaterThan(0);
  for (const line of found) expect(line).toMatch(/^list: records read over S3 \d+ records of 62 records \(/);
  expect(run.stderr).toMatch(/signatures cannot be checked/);

  const table = await runCli(['list', ...tenantArgs], s3Only);
  expect(table.stdout).toMatch(/^Retention: not known/m);
  expect(table.stdout).toMatch(
    new RegExp(` ok +\\? +.*${made[1]!.outputs['backup-file']!.replace(/\./g, '\\.')}$`, 'm'),
  );
});
