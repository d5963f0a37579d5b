// Faults between the action and R2's S3 endpoint, injected by a proxy on loopback (issue 25):
// each run goes through `node dist/index.js` as the runner runs it, and each must end in bounded
// time with a log line naming the request, and leave the bucket clean: no empty claims, no open
// multipart uploads, no unrecorded archives, nothing completed and then deleted.
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-stack.js';
import { sharedStackToken } from '../helpers/shared-stack.js';
import { runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { throughProxy, type FaultRule } from '../helpers/fault-proxy.js';
import { faultSuite, SHORT_TIMEOUTS, expectCleanBucket, expectNoObjectDeleted } from './helpers.js';

const TOKEN = sharedStackToken();
const BUCKET = 'my-bucket';
// 20 MiB of random bytes: three 8 MiB parts.
const suite = faultSuite(20 * 1024 * 1024);

/** A backup of the fixture to `tenant` in my-bucket through the proxy; the Worker is reached directly. */
async function backup(tenant: string, rules: FaultRule[], env: Record<string, string> = {}) {
  for (const rule of rules) suite.proxy.add(rule);
  const started = Date.now();
  const run = await runAction({
    inputs: {
      path: suite.tree,
      ...s3Inputs(suite.stack),
      'r2-endpoint': throughProxy(suite.stack.s3Endpoint, suite.proxy),
      'api-url': suite.stack.url,
      'api-token': TOKEN,
      tenant,
      bucket: BUCKET,
      compression: 'none',
    },
    env: { ...SHORT_TIMEOUTS, ...env },
  });
  return { run, seconds: (Date.now() - started) / 1000 };
}

const log = (run: RunResult): string => run.stdout + run.stderr;
const keyPath = (tenant: string): string => `/s3/${BUCKET}/backups/${tenant}/`;

test('a stalled UploadPart: the idle timeout names it, it is retried, the backup is stored', async () => {
  const { run, seconds } = await backup('fault-stall', [
    { method: 'PUT', url: new RegExp(`${keyPath('fault-stall')}.*partNumber=2`), fault: { kind: 'stall' } },
  ]);
  expect(log(run)).toMatch(/UploadPart backups\/fault-stall\/\S+ part 2.*no byte for 3 s.*retrying/);
  expect(run.code).toBe(0);
  expect(seconds).toBeLessThan(45);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'fault-stall', suite.proxy, true)).toHaveLength(1);
  expectNoObjectDeleted(suite.proxy);
}, 60_000);

test('a slow answer past the per-attempt deadline (sized to the part) is abandoned and retried', async () => {
  // An 8 MiB part's deadline: 4 s, plus 2 s for its bytes at 4 MiB/s; the answer comes after 9 s.
  const { run, seconds } = await backup(
    'fault-slow',
    [
      {
        method: 'PUT',
        url: new RegExp(`${keyPath('fault-slow')}.*partNumber=2`),
        fault: { kind: 'slow', delayMs: 9000, bytesPerSecond: 200 },
      },
    ],
    {
      R2_BACKUP_REQUEST_TIMEOUT_MS: '4000',
      R2_BACKUP_MIN_BYTES_PER_SECOND: String(4 * 1024 * 1024),
      R2_BACKUP_IDLE_TIMEOUT_MS: '12000',
    },
  );
  expect(log(run)).toMatch(/UploadPart backups\/fault-slow\/\S+ part 2.*no answer within 6 s.*retrying/);
  expect(run.code).toBe(0);
  expect(seconds).toBeLessThan(45);
  expect(suite.proxy.seen.filter((r) => /partNumber=2/.test(r.url)).map((r) => r.fault)).toEqual([
    'slow',
    undefined,
  ]);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'fault-slow', suite.proxy, true)).toHaveLength(1);
}, 60_000);

test('a 503 with Retry-After on CompleteMultipartUpload: waits as told (capped), then completes', async () => {
  const { run, seconds } = await backup('fault-503', [
    {
      method: 'POST',
      url: new RegExp(`${keyPath('fault-503')}.*uploadId=`),
      fault: { kind: 'unavailable', retryAfterSeconds: 3 },
      times: 2,
    },
  ]);
  expect(log(run)).toMatch(
    /CompleteMultipartUpload backups\/fault-503\/\S+.*HTTP 503.*retrying in 3\.\d s \(Retry-After\)/,
  );
  expect(run.code).toBe(0);
  expect(seconds).toBeGreaterThan(5.5);
  expect(seconds).toBeLessThan(45);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'fault-503', suite.proxy, true)).toHaveLength(1);
}, 60_000);

test('a part cut mid-body is sent again', async () => {
  const { run, seconds } = await backup('fault-cut', [
    {
      method: 'PUT',
      url: new RegExp(`${keyPath('fault-cut')}.*partNumber=1`),
      fault: { kind: 'cut', bytes: 3 * 1024 * 1024, direction: 'request' },
    },
  ]);
  expect(log(run)).toMatch(/UploadPart backups\/fault-cut\/\S+ part 1.*retrying/);
  expect(run.code).toBe(0);
  expect(seconds).toBeLessThan(45);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'fault-cut', suite.proxy, true)).toHaveLength(1);
}, 60_000);

test('a lost CompleteMultipartUpload answer: the object is checked, found ours, kept and recorded', async () => {
  const { run, seconds } = await backup('fault-lost-complete', [
    {
      method: 'POST',
      url: new RegExp(`${keyPath('fault-lost-complete')}.*uploadId=`),
      fault: { kind: 'lose-answer' },
    },
  ]);
  expect(log(run)).toMatch(
    /CompleteMultipartUpload backups\/fault-lost-complete\/\S+.*(NoSuchUpload|no answer)/,
  );
  expect(log(run)).toMatch(/is this upload's: completed/);
  expect(run.code).toBe(0);
  expect(seconds).toBeLessThan(45);
  const archives = await expectCleanBucket(suite.stack, BUCKET, 'fault-lost-complete', suite.proxy, true);
  expect(archives.map((a) => a.Key)).toEqual([run.outputs['backup-key']]);
  expectNoObjectDeleted(suite.proxy);
}, 60_000);

test("a lost claim answer: the retry recognises its own claim, no '-2', no empty claim", async () => {
  const { run, seconds } = await backup('fault-lost-claim', [
    {
      method: 'PUT',
      url: new RegExp(`${keyPath('fault-lost-claim')}.*x-id=PutObject`),
      fault: { kind: 'lose-answer' },
    },
  ]);
  expect(run.code).toBe(0);
  expect(seconds).toBeLessThan(45);
  expect(log(run)).toMatch(/claim .* is this run's/);
  const archives = await expectCleanBucket(suite.stack, BUCKET, 'fault-lost-claim', suite.proxy, true);
  expect(archives.map((a) => a.Key)).toEqual([run.outputs['backup-key']]);
  expect(run.outputs['backup-key']).not.toMatch(/-2\.tar$/);
}, 60_000);

const SKEWED = {
  NODE_OPTIONS: `--import ${join(ROOT, 'test/helpers/clock-preload.mjs')}`,
  R2_BACKUP_TEST_CLOCK_SKEW_MS: String(-20 * 60_000),
};

test("a runner clock 20 minutes off: corrected from R2's Date header, and said so", async () => {
  const { run } = await backup('fault-clock', [], SKEWED);
  expect(log(run)).toMatch(/the runner's clock is 20 minutes off/);
  expect(run.code).toBe(0);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'fault-clock', suite.proxy, true)).toHaveLength(1);
}, 60_000);

test('a runner clock 20 minutes off and no Date header: the error names the clock, not the keys', async () => {
  const { run, seconds } = await backup(
    'fault-clock-nodate',
    [{ url: /./, fault: { kind: 'no-date' }, times: Infinity }],
    SKEWED,
  );
  expect(run.code).toBe(1);
  expect(seconds).toBeLessThan(45);
  const error = run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
  expect(error).toMatch(/the runner's clock is off/);
  expect(error).not.toMatch(/refused the credentials/);
  expect(await expectCleanBucket(suite.stack, BUCKET, 'fault-clock-nodate', suite.proxy, false)).toEqual([]);
}, 60_000);
