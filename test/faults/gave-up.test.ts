// A connection cut every time on one part (issue 24 item 6), through `node dist/index.js`: the
// step's error names the request that failed, how many attempts were made and what was cleaned
// up, and points to the README entry; the bucket is left clean. Over S3 and over the Worker's
// upload route.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-stack.js';
import { sharedStackToken } from '../helpers/shared-stack.js';
import { runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { throughProxy } from '../helpers/fault-proxy.js';
import { faultSuite, SHORT_TIMEOUTS, expectCleanBucket } from './helpers.js';

const TOKEN = sharedStackToken();
const BUCKET = 'my-bucket';
// 20 MiB of random bytes: three 8 MiB parts at the chosen part size.
const suite = faultSuite(20 * 1024 * 1024);

const errorLine = (run: RunResult): string =>
  run.stdout.split('\n').find((line) => line.startsWith('::error::')) ?? '';

/** The README's Troubleshooting section holds the entry an error points to. */
function expectReadmeEntry(message: string): void {
  const entry = /Troubleshooting: "([^"]+)"/.exec(message)?.[1];
  expect(entry).toBeDefined();
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Troubleshooting'));
  expect(section).toContain(`**${entry}**`);
}

test('S3: a part cut on every attempt names UploadPart, its attempts and the abort', async () => {
  const tenant = 'gave-up-s3';
  suite.proxy.add({
    method: 'PUT',
    url: new RegExp(`/s3/${BUCKET}/backups/${tenant}/.*partNumber=3`),
    fault: { kind: 'cut', bytes: 1024 * 1024, direction: 'request' },
    times: Infinity,
  });
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
      'part-size-mib': '8',
    },
    env: SHORT_TIMEOUTS,
  });
  expect(run.code).toBe(1);
  const error = errorLine(run);
  expect(error).toMatch(
    new RegExp(`UploadPart backups/${tenant}/\\S+\\.tar part 3 failed after 5 attempts: `),
  );
  expect(error).toMatch(
    new RegExp(
      `Cleaned up: the upload of backups/${tenant}/\\S+\\.tar was aborted \\(no parts, no placeholder left\\)`,
    ),
  );
  expect(error).toContain('Troubleshooting: "A request failed after its retries"');
  expectReadmeEntry(error);
  // Five attempts of part 3 reached the proxy, each cut.
  expect(suite.proxy.seen.filter((r) => /partNumber=3/.test(r.url) && r.fault === 'cut')).toHaveLength(5);
  expect(await expectCleanBucket(suite.stack, BUCKET, tenant, suite.proxy, false)).toEqual([]);
}, 120_000);

test("the Worker's upload route: a part cut on every attempt names mpu-uploadpart and its attempts", async () => {
  const tenant = 'gave-up-worker';
  suite.proxy.add({
    method: 'PUT',
    url: /\/upload\?.*action=mpu-uploadpart.*partNumber=3/,
    fault: { kind: 'cut', bytes: 1024 * 1024, direction: 'request' },
    times: Infinity,
  });
  const run = await runAction({
    inputs: {
      path: suite.tree,
      'api-url': suite.proxy.url,
      'api-token': TOKEN,
      tenant,
      bucket: BUCKET,
      compression: 'none',
      'part-size-mib': '8',
    },
    env: SHORT_TIMEOUTS,
  });
  expect(run.code).toBe(1);
  const error = errorLine(run);
  expect(error).toMatch(
    new RegExp(`mpu-uploadpart backups/${tenant}/\\S+\\.tar part 3 failed after 5 attempts: The Worker at `),
  );
  expect(error).toMatch(new RegExp(`Cleaned up: the upload of backups/${tenant}/\\S+\\.tar was aborted`));
  expect(error).toContain('Troubleshooting: "A request failed after its retries"');
  expectReadmeEntry(error);
  expect(await expectCleanBucket(suite.stack, BUCKET, tenant, suite.proxy, false)).toEqual([]);
}, 120_000);
