// Faults between the action and the Worker's upload route (runs with an API token and no S3
// keys), injected by a proxy on loopback (issue 25), through `node dist/index.js`; and on the
// Worker's record route and the CLI's read-only calls.
import { sharedStackToken } from '../helpers/shared-stack.js';
import { runAction, type RunResult } from '../action/helpers.js';
import { runCli } from '../cli/helpers.js';
import type { FaultRule } from '../helpers/fault-proxy.js';
import { faultSuite, SHORT_TIMEOUTS, expectCleanBucket } from './helpers.js';

const TOKEN = sharedStackToken();
const BUCKET = 'my-bucket';
const suite = faultSuite(12 * 1024 * 1024); // two 8 MiB parts

async function backup(tenant: string, rules: FaultRule[]) {
  for (const rule of rules) suite.proxy.add(rule);
  const started = Date.now();
  const run = await runAction({
    inputs: {
      path: suite.tree,
      'api-url': suite.proxy.url,
      'api-token': TOKEN,
      tenant,
      bucket: BUCKET,
      compression: 'none',
    },
    env: SHORT_TIMEOUTS,
  });
  return { run, seconds: (Date.now() - started) / 1000 };
}

const log = (run: RunResult): string => run.stdout + run.stderr;
const action = (name: string): RegExp => new RegExp(`/upload\\?.*action=${name}`);
const UNAVAILABLE = {
  kind: 'unavailable',
  retryAfterSeconds: 2,
  body: '{"success":false,"error":"busy"}',
} as const;

test('a 503 with Retry-After on mpu-create is retried after it', async () => {
  const { run, seconds } = await backup('wfault-create', [
    { method: 'POST', url: action('mpu-create'), fault: UNAVAILABLE },
  ]);
  expect(log(run)).toMatch(
    /mpu-create backups\/wfault-create\/\S+ failed .*503.*retrying in 2\.0 s \(Retry-After\)/,
  );
  expect(run.code).toBe(0);
  expect(seconds).toBeGreaterThan(2);
  expect(seconds).toBeLessThan(45);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'wfault-create', suite.proxy, true)).toHaveLength(1);
}, 60_000);

test('a 503 with Retry-After on mpu-complete is retried after it', async () => {
  const { run, seconds } = await backup('wfault-complete', [
    { method: 'POST', url: action('mpu-complete'), fault: UNAVAILABLE },
  ]);
  expect(log(run)).toMatch(/mpu-complete backups\/wfault-complete\/\S+ failed .*503.*Retry-After/);
  expect(run.code).toBe(0);
  expect(seconds).toBeLessThan(45);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'wfault-complete', suite.proxy, true)).toHaveLength(1);
}, 60_000);

test('a stalled part: the idle timeout names it and it is sent again', async () => {
  const { run, seconds } = await backup('wfault-stall', [
    { method: 'PUT', url: action('mpu-uploadpart'), fault: { kind: 'stall' } },
  ]);
  expect(log(run)).toMatch(/mpu-uploadpart backups\/wfault-stall\/\S+ part \d failed .*no byte for 3 s/);
  expect(run.code).toBe(0);
  expect(seconds).toBeLessThan(45);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'wfault-stall', suite.proxy, true)).toHaveLength(1);
}, 60_000);

test('a lost mpu-complete answer: the retry is told the object is ours; recorded, no second archive', async () => {
  const { run, seconds } = await backup('wfault-lost', [
    { method: 'POST', url: action('mpu-complete'), fault: { kind: 'lose-answer' } },
  ]);
  expect(log(run)).toMatch(/completed by an earlier attempt/);
  expect(run.code).toBe(0);
  expect(seconds).toBeLessThan(45);
  const archives = await expectCleanBucket(suite.stack, BUCKET, 'wfault-lost', suite.proxy, true);
  expect(archives.map((a) => a.Key)).toEqual([run.outputs['backup-key']]);
}, 60_000);

test('a 503 with Retry-After on the record is retried after it, with a log line; recorded once', async () => {
  const { run, seconds } = await backup('wfault-record', [
    { method: 'POST', url: /^\/api\/github\/backup(\?|$)/, fault: UNAVAILABLE },
  ]);
  expect(log(run)).toMatch(
    /record backups\/wfault-record\/\S+ failed .*503.*retrying in 2\.0 s \(Retry-After\)/,
  );
  expect(run.code).toBe(0);
  expect(seconds).toBeGreaterThan(2);
  expect(seconds).toBeLessThan(45);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'wfault-record', suite.proxy, true)).toHaveLength(1);
}, 60_000);

test("a 503 with Retry-After on the CLI's list: retried after it, said on stderr, then listed", async () => {
  const stored = await backup('wfault-list', []);
  expect(stored.run.code).toBe(0);
  suite.proxy.add({ method: 'GET', url: /^\/api\/github\/backup\/list\?/, fault: UNAVAILABLE });
  const started = Date.now();
  const run = await runCli(['list', '--tenant', 'wfault-list', '--bucket', BUCKET], {
    R2_BACKUP_API_URL: suite.proxy.url,
    R2_BACKUP_API_TOKEN: TOKEN,
    ...SHORT_TIMEOUTS,
  });
  expect(run.stderr).toMatch(
    /GET \/api\/github\/backup\/list failed .*503.*retrying in 2\.0 s \(Retry-After\), attempt 2 of 3/,
  );
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(stored.run.outputs['backup-file']);
  expect((Date.now() - started) / 1000).toBeGreaterThan(2);
}, 60_000);
