// Faults between `r2-backup restore` and R2's S3 endpoint (issue 25 item 4), injected by the
// proxy on loopback: a GetObject that never answers ends in bounded time, says what failed and
// that nothing was written, and leaves neither the target nor staging; a download cut midway
// resumes where it stopped (a Range, pinned with If-Match to the first answer's ETag), over S3
// and through the Worker's download route, and fails as before when cut on every attempt or
// when the object was replaced in between; a second restore started into a target while the
// first downloads is refused (issue 25 item 5); SIGINT and SIGTERM while a download stalls
// remove staging and the lock.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedStackToken } from '../helpers/shared-stack.js';
import { SEED_EXCLUDES, excludedBy, runAction, s3Inputs } from '../action/helpers.js';
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { fullEnv, runCli, startCli, workerEnv } from '../cli/helpers.js';
import { s3Client } from '../worker/helpers.js';
import { snapshotTree } from '../helpers/tree.js';
import { throughProxy, type FaultRule } from '../helpers/fault-proxy.js';
import { faultSuite, SHORT_TIMEOUTS } from './helpers.js';
import { ROOT } from '../../scripts/local-stack.js';

const TOKEN = sharedStackToken();
const BUCKET = 'my-bucket';
const suite = faultSuite(6 * 1024 * 1024);
let work: string;
let file: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'restore-faults-'));
  const run = await runAction({
    inputs: {
      ...s3Inputs(suite.stack),
      'api-url': suite.stack.url,
      'api-token': TOKEN,
      tenant: 'fault-restore',
      bucket: BUCKET,
      path: suite.tree,
      compression: 'none',
    },
  });
  if (run.code !== 0) throw new Error(run.stdout);
  file = run.outputs['backup-file']!;
}, 120_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const restoreArgs = (target: string): string[] => [
  'restore',
  '--tenant',
  'fault-restore',
  '--bucket',
  BUCKET,
  '--backup',
  file,
  '--target',
  target,
];
const proxiedEnv = (): Record<string, string> => ({
  ...fullEnv(suite.stack, TOKEN),
  R2_ENDPOINT: throughProxy(suite.stack.s3Endpoint, suite.proxy),
  ...SHORT_TIMEOUTS,
});

/** The Worker only, through the proxy: the archive comes through its download route. */
const workerRouteEnv = (): Record<string, string> => ({
  ...workerEnv(suite.stack, TOKEN),
  R2_BACKUP_API_URL: throughProxy(suite.stack.url, suite.proxy),
  ...SHORT_TIMEOUTS,
});

async function restoreThrough(rules: FaultRule[], env = proxiedEnv()) {
  for (const rule of rules) suite.proxy.add(rule);
  const box = mkdtempSync(join(work, 'box-'));
  const started = Date.now();
  const run = await runCli(restoreArgs(join(box, 'target')), env);
  return { run, box, seconds: (Date.now() - started) / 1000 };
}

const archiveGet = (): RegExp =>
  new RegExp(`/${BUCKET}/backups/fault-restore/${file.replace(/\./g, '\\.')}(\\?|$)`);
const workerGet = (): RegExp =>
  new RegExp(`/download\\?key=backups%2Ffault-restore%2F${file.replace(/\./g, '\\.')}$`);
const archiveKey = (): string => `backups/fault-restore/${file}`;
const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const cutOnce = (url: RegExp, bytes: number): FaultRule => ({
  method: 'GET',
  url,
  fault: { kind: 'cut', bytes, direction: 'response' },
});

test('a clock 20 minutes off and no Date header: restore names the clock, not the keys', async () => {
  const skewed = {
    ...proxiedEnv(),
    NODE_OPTIONS: `--import ${join(ROOT, 'test/helpers/clock-preload.mjs')}`,
    R2_BACKUP_TEST_CLOCK_SKEW_MS: String(-20 * 60_000),
  };
  const { run, box } = await restoreThrough(
    [{ url: /./, fault: { kind: 'no-date' }, times: Infinity }],
    skewed,
  );
  expect(run.code).not.toBe(0);
  // The final error, not only the retry line before it.
  expect(run.stderr).toMatch(
    /^r2-backup restore: R2 refused the request because the runner's clock is off.*set this machine's clock right/m,
  );
  expect(run.stderr).not.toMatch(/check r2-access-key-id|refused the credentials/);
  expect(readdirSync(box)).toEqual([]);
}, 60_000);

test('a GetObject that never answers fails within the idle timeout, nothing written', async () => {
  const { run, box, seconds } = await restoreThrough([
    { method: 'GET', url: archiveGet(), fault: { kind: 'stall' }, times: Infinity },
  ]);
  expect(run.code).toBe(4); // a network failure
  expect(run.stderr).toMatch(/The download of the archive got no answer for 3 s after 0 of \d+ bytes/);
  expect(run.stderr).toMatch(/Nothing was written: .*target was left as it was/);
  // The request is abandoned with the restore: the process does not linger on its socket.
  expect(seconds).toBeLessThan(10);
  expect(readdirSync(box)).toEqual([]);
  expect(suite.proxy.seen.some((r) => r.fault === 'stall')).toBe(true);
}, 60_000);

test.each([
  ['over S3', archiveGet, proxiedEnv],
  ['through the Worker download route', workerGet, workerRouteEnv],
] as const)(
  'a download cut midway %s resumes where it stopped, pinned to its ETag',
  async (_, get, env) => {
    const cutAt = 1024 * 1024 + 7;
    const { run, box } = await restoreThrough([cutOnce(get(), cutAt)], env());
    expect(run.code).toBe(0);
    const resumed = new RegExp(
      `Warning: the download of the archive ${escaped(archiveKey())} (failed \\(.+\\)|stalled: .+) ` +
        `after (\\d+) of \\d+ bytes; resuming at byte (\\d+), attempt 2 of 5`,
    ).exec(run.stderr);
    expect(resumed).not.toBeNull();
    // At most what the proxy sent: what the client had buffered but not staged went with the socket.
    const at = Number(resumed![2]);
    expect([Number(resumed![3]), at > 0 && at <= cutAt]).toEqual([at, true]);
    expect(snapshotTree(join(box, 'target'))).toEqual(snapshotTree(suite.tree, excludedBy(SEED_EXCLUDES)));
    expect(readdirSync(box)).toEqual(['target']);
    // One more GET, for the rest only, of the object the first answer was.
    const gets = suite.proxy.seen.filter((r) => get().test(r.url));
    expect(gets.map(({ fault, range }) => [fault, range])).toEqual([
      ['cut', undefined],
      [undefined, `bytes=${at}-`],
    ]);
    expect(gets[0]!.ifMatch).toBeUndefined();
    expect(gets[1]!.ifMatch).toMatch(/^"[^"]+"$/);
  },
  60_000,
);

test('a download cut on every attempt fails after the last, naming them, nothing written', async () => {
  const { run, box, seconds } = await restoreThrough([
    { ...cutOnce(archiveGet(), 1024 * 1024), times: Infinity },
  ]);
  expect(run.code).toBe(4); // a network failure
  expect(run.stderr).toMatch(
    /The download of the archive (failed \(.+\)|stalled: .+) after \d+ of \d+ bytes in 5 attempts, each resumed where the last stopped/,
  );
  expect(run.stderr).toMatch(/Nothing was written/);
  expect(seconds).toBeLessThan(30);
  expect(readdirSync(box)).toEqual([]);
  // Each attempt asked for the bytes after the last one's (at most 1 MiB more), never for those it had.
  const ranges = suite.proxy.seen.filter((r) => archiveGet().test(r.url)).map((r) => r.range);
  expect(ranges).toEqual([undefined, ...Array(4).fill(expect.stringMatching(/^bytes=\d+-$/))]);
  const starts = [0, ...ranges.slice(1).map((range) => Number(/\d+/.exec(range!)![0]))];
  const gained = starts.slice(1).map((start, i) => start - starts[i]!);
  expect(gained.every((bytes) => bytes > 0 && bytes <= 1024 * 1024)).toBe(true);
}, 60_000);

test('an archive replaced between attempts is refused, nothing written', async () => {
  const s3 = s3Client(suite.stack);
  const aside = `aside/${file}`;
  await s3.send(
    new CopyObjectCommand({ Bucket: BUCKET, Key: aside, CopySource: `${BUCKET}/${archiveKey()}` }),
  );
  try {
    const replace = async (): Promise<void> =>
      void (await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: archiveKey(), Body: randomBytes(4096) }),
      ));
    const { run, box } = await restoreThrough([
      cutOnce(archiveGet(), 1024 * 1024),
      { method: 'GET', url: archiveGet(), fault: { kind: 'after', step: replace } },
    ]);
    expect(run.code).toBe(1); // refused, as a corrupt archive is
    expect(run.stderr).toMatch(
      new RegExp(
        `The archive was replaced while it downloaded, after (\\d+) of \\d+ bytes: ` +
          `${escaped(archiveKey())} changed since its download started.*` +
          `Nothing was written: .*target was left as it was`,
      ),
    );
    expect(readdirSync(box)).toEqual([]);
    const gets = suite.proxy.seen.filter((r) => archiveGet().test(r.url));
    const staged = /replaced while it downloaded, after (\d+) of/.exec(run.stderr)![1];
    expect(gets.map(({ range, status }) => [range, status])).toEqual([
      [undefined, undefined], // cut: never sent in full
      [`bytes=${staged}-`, 412],
    ]);
  } finally {
    await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: archiveKey(), CopySource: `${BUCKET}/${aside}` }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: aside }));
  }
}, 60_000);

test('without faults the same restore succeeds through the proxy', async () => {
  const { run, box } = await restoreThrough([]);
  expect(run.code).toBe(0);
  expect(readdirSync(box)).toEqual(['target']);
  // The rules above matched the archive's GetObject: this run's went through unfaulted.
  expect(suite.proxy.seen.filter((r) => archiveGet().test(r.url)).map((r) => r.fault)).toEqual([undefined]);
}, 60_000);

/** The archive's GetObject has reached the proxy: the restore holds its target's lock by then. */
const downloading = (): Promise<void> =>
  suite.proxy.until((seen) => seen.some((r) => archiveGet().test(r.url)));

test('two restores into one target: the second is refused while the first completes', async () => {
  // The first's download trickles in over about 3 s (never idle for the 3 s idle timeout).
  suite.proxy.add({
    method: 'GET',
    url: archiveGet(),
    fault: { kind: 'slow', delayMs: 300, bytesPerSecond: 2 * 1024 * 1024 },
  });
  const box = mkdtempSync(join(work, 'box-'));
  const target = join(box, 'target');
  const first = startCli(restoreArgs(target), proxiedEnv());
  await downloading();
  const second = await runCli(restoreArgs(target), proxiedEnv());
  expect(second.code).toBe(1);
  expect(second.stderr).toMatch(
    new RegExp(
      `Another restore \\(process ${first.pid}\\) is writing ${escaped(target)}.*Nothing was written`,
    ),
  );
  const done = await first.done;
  expect(done.code).toBe(0);
  expect(done.stdout).toMatch(/Restored/);
  expect(snapshotTree(target)).toEqual(snapshotTree(suite.tree, excludedBy(SEED_EXCLUDES)));
  expect(readdirSync(box)).toEqual(['target']);
  // Only the first downloaded the archive.
  expect(suite.proxy.seen.filter((r) => archiveGet().test(r.url)).map((r) => r.fault)).toEqual(['slow']);
}, 60_000);

test.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)(
  '%s during a stalled download removes staging and the lock',
  async (signal, status) => {
    suite.proxy.add({ method: 'GET', url: archiveGet(), fault: { kind: 'stall' } });
    const box = mkdtempSync(join(work, 'box-'));
    // The stall outlasts the test: only the signal ends this restore.
    const running = startCli(restoreArgs(join(box, 'target')), {
      ...proxiedEnv(),
      R2_BACKUP_IDLE_TIMEOUT_MS: '30000',
    });
    try {
      await downloading();
      const beside = readdirSync(box);
      expect(beside).toContain('.target.restore-lock');
      expect(beside.filter((name) => name !== '.target.restore-lock')).toEqual([
        expect.stringMatching(/^\.target\.restore-.{6}$/),
      ]);
      running.child.kill(signal);
      const done = await running.done;
      expect(done.code).toBe(status);
      expect(done.stderr).toMatch(
        new RegExp(`Interrupted \\(${signal}\\): the restore was abandoned and its staging removed`),
      );
      expect(readdirSync(box)).toEqual([]);
    } finally {
      running.child.kill('SIGKILL'); // still running only when a check above failed
    }
  },
  60_000,
);
