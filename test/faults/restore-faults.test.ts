// Faults between `r2-backup restore` and R2's S3 endpoint (issue 25 item 4), injected by the
// proxy on loopback: a GetObject that never answers and one cut midway end in bounded time,
// say what failed and that nothing was written, and leave neither the target nor staging; a
// second restore started into a target while the first downloads is refused (issue 25 item 5);
// SIGINT and SIGTERM while a download stalls remove staging and the lock.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedStackToken } from '../helpers/shared-stack.js';
import { SEED_EXCLUDES, excludedBy, runAction, s3Inputs } from '../action/helpers.js';
import { fullEnv, runCli, startCli } from '../cli/helpers.js';
import { snapshotTree } from '../helpers/tree.js';
import { throughProxy, type FaultRule } from '../helpers/fault-proxy.js';
import { faultSuite, SHORT_TIMEOUTS } from './helpers.js';

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

async function restoreThrough(rules: FaultRule[]) {
  for (const rule of rules) suite.proxy.add(rule);
  const box = mkdtempSync(join(work, 'box-'));
  const started = Date.now();
  const run = await runCli(restoreArgs(join(box, 'target')), proxiedEnv());
  return { run, box, seconds: (Date.now() - started) / 1000 };
}

const archiveGet = (): RegExp =>
  new RegExp(`/${BUCKET}/backups/fault-restore/${file.replace(/\./g, '\\.')}(\\?|$)`);

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

test('a download cut midway says how far it got, nothing written', async () => {
  const { run, box, seconds } = await restoreThrough([
    {
      method: 'GET',
      url: archiveGet(),
      fault: { kind: 'cut', bytes: 1024 * 1024, direction: 'response' },
      times: Infinity,
    },
  ]);
  expect(run.code).toBe(4); // a network failure
  expect(run.stderr).toMatch(
    /The download of the archive (failed \(.+\)|stalled: .+) after \d+ of \d+ bytes/,
  );
  expect(run.stderr).toMatch(/Nothing was written/);
  expect(seconds).toBeLessThan(30);
  expect(readdirSync(box)).toEqual([]);
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
const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
