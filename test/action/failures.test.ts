// The action's failure paths, run as the runner runs it: each stops with an error that says
// what to fix, leaves no partial object, and records a failure notification where the Worker
// can take one.
import { rmSync } from 'node:fs';
import { freePort, type LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { startFaultProxy, throughProxy } from '../helpers/fault-proxy.js';
import { expectCleanBucket } from '../faults/helpers.js';
import { aws, listKeys, makeFixtureTree, runAction, s3Inputs } from './helpers.js';

const TOKEN = sharedStackToken();
let stack: LocalStack;
let tree: string;

beforeAll(async () => {
  stack = await sharedStack();
  tree = makeFixtureTree(64 * 1024);
});
afterAll(async () => {
  if (tree) rmSync(tree, { recursive: true, force: true });
});

const apiInputs = (): Record<string, string> => ({ 'api-url': stack.url, 'api-token': TOKEN });
const archives = (keys: string[]): string[] => keys.filter((k) => !/\/(metadata|notifications)\//.test(k));
const errorLine = (stdout: string): string => stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';

async function notifications(bucket: string, tenant: string): Promise<Record<string, unknown>[]> {
  const keys = await listKeys(stack, bucket, `backups/${tenant}/notifications/`);
  return Promise.all(
    keys.map(async (k) => JSON.parse(await aws(stack, 's3', 'cp', `s3://${bucket}/${k}`, '-'))),
  );
}

test('a wrong S3 secret: says which inputs to fix, nothing stored, a failure notification', async () => {
  const run = await runAction({
    inputs: {
      path: tree,
      ...s3Inputs(stack),
      'r2-secret-access-key': 'not-the-secret-at-all',
      ...apiInputs(),
      tenant: 'tenant-a',
    },
  });
  expect(run.code).toBe(1);
  expect(errorLine(run.stdout)).toMatch(/refused the credentials.*r2-access-key-id and r2-secret-access-key/);
  expect(archives(await listKeys(stack, 'tenant-a-github-backup', 'backups/tenant-a/'))).toEqual([]);
  expect(await notifications('tenant-a-github-backup', 'tenant-a')).toContainEqual(
    expect.objectContaining({
      status: 'failure',
      tenant: 'tenant-a',
      message: expect.stringMatching(/credentials/),
    }),
  );
  const log = (run.stdout + run.stderr).replace(/^::add-mask::.*$/gm, '');
  expect(log).not.toContain('not-the-secret-at-all');
  expect(log).not.toContain(TOKEN);
});

test('a bucket that does not exist: says so, and how to fix it', async () => {
  const run = await runAction({
    inputs: {
      path: tree,
      ...s3Inputs(stack),
      ...apiInputs(),
      tenant: 'tenant-a',
      bucket: 'no-such-bucket-here',
    },
  });
  expect(run.code).toBe(1);
  expect(errorLine(run.stdout)).toMatch(/Bucket no-such-bucket-here does not exist.*bucket-map/);
  // The Worker has no such bucket either, so the failure notification is a warning.
  expect(run.stdout).toMatch(/::warning::Could not record a failure notification/);
});

test('an invalid tenant from the dispatch payload: a clear error before anything is uploaded', async () => {
  const before = await listKeys(stack, 'autonomous-coding-agent', '');
  const run = await runAction({
    event: 'repository_dispatch',
    payload: { action: 'backup-request', client_payload: { tenant: '../other-tenant' } },
    inputs: { path: tree, ...s3Inputs(stack), ...apiInputs(), bucket: 'autonomous-coding-agent' },
  });
  expect(run.code).toBe(1);
  expect(errorLine(run.stdout)).toMatch(
    /Invalid tenant \(from client_payload.tenant\): must .*Nothing was uploaded/,
  );
  expect(await listKeys(stack, 'autonomous-coding-agent', '')).toEqual(before);
});

test('an invalid input: names the input and the rule', async () => {
  const run = await runAction({
    inputs: { path: tree, ...s3Inputs(stack), ...apiInputs(), compression: 'brotli' },
  });
  expect(run.code).toBe(1);
  expect(errorLine(run.stdout)).toContain('Invalid compression: must be one of gzip, zstd, none');
  const map = await runAction({
    inputs: { path: tree, ...s3Inputs(stack), 'bucket-map': 'tenant-a: Not_A_Bucket' },
  });
  expect(errorLine(map.stdout)).toMatch(/Invalid bucket-map \(line 1\): must be an R2 bucket name/);
});

describe('the Worker is down', () => {
  let downUrl: string;
  beforeAll(async () => {
    downUrl = `http://127.0.0.1:${await freePort()}`;
  });

  test('the archive stays and the step warns', async () => {
    const run = await runAction({
      inputs: { path: tree, ...s3Inputs(stack), 'api-url': downUrl, 'api-token': TOKEN, tenant: 'tenant-b' },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/::warning::The archive is stored at backups\/tenant-b\/.*cannot be reached/);
    expect(archives(await listKeys(stack, 'tenant-b-github-backup', 'backups/tenant-b/'))).toContain(
      run.outputs['backup-key'],
    );
  });

  test('with fail-on-api-error the step fails, and the archive still stays', async () => {
    const run = await runAction({
      inputs: {
        path: tree,
        ...s3Inputs(stack),
        'api-url': downUrl,
        'api-token': TOKEN,
        tenant: 'tenant-b',
        'fail-on-api-error': 'true',
      },
    });
    expect(run.code).toBe(1);
    expect(errorLine(run.stdout)).toMatch(/did not record it.*fail-on-api-error is true/);
    expect(archives(await listKeys(stack, 'tenant-b-github-backup', 'backups/tenant-b/'))).toContain(
      run.outputs['backup-key'],
    );
  });
});

test('a cancelled run aborts its upload: no parts, no placeholder, a cancelled notification', async () => {
  const big = makeFixtureTree(40 * 1024 * 1024);
  // S3 through a proxy that never answers the first UploadPart: the run is cancelled once that
  // part is sent, and cannot have finished its upload first, however fast the machine.
  const proxy = await startFaultProxy(Number(new URL(stack.url).port));
  proxy.add({ method: 'PUT', url: /[?&]partNumber=1(&|$)/, fault: { kind: 'stall' } });
  try {
    const run = await runAction({
      inputs: {
        path: big,
        ...s3Inputs(stack),
        'r2-endpoint': throughProxy(stack.s3Endpoint, proxy),
        ...apiInputs(),
        tenant: 'cancelled',
        bucket: 'my-bucket',
        'part-size-mib': '5',
      },
      cancel: { when: proxy.until((seen) => seen.some((r) => r.fault === 'stall')), signal: 'SIGTERM' },
    });
    expect(run.code).toBe(1);
    expect(errorLine(run.stdout)).toMatch(/Cancelled \(SIGTERM\).*aborted/);
    expect(archives(await listKeys(stack, 'my-bucket', 'backups/cancelled/'))).toEqual([]);
    // And the multipart upload no longer takes parts.
    await expectCleanBucket(stack, 'my-bucket', 'cancelled', proxy, false);
    expect(await notifications('my-bucket', 'cancelled')).toContainEqual(
      expect.objectContaining({ status: 'cancelled', tenant: 'cancelled' }),
    );
  } finally {
    await proxy.close();
    rmSync(big, { recursive: true, force: true });
  }
});
