// A sync killed (SIGKILL) after some uploads is completed by the next run: with the same tree,
// and with the tree reverted, where trusting the old manifest would leave the killed run's
// uploads as stale content and stray files.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mirrorManifestKey } from '../../common/naming.js';
import { ROOT, type LocalStack } from '../../scripts/local-stack.js';
import { sharedStack } from '../helpers/shared-stack.js';
import { syncMirror } from '../../core/mirror/sync.js';
import { startFaultProxy, throughProxy } from '../helpers/fault-proxy.js';
import { aws, s3Client } from '../worker/helpers.js';
import { BUCKET, EXCLUDES, expectedFiles, fixtureTree, storedFiles, tempDir, writeFiles } from './helpers.js';

let stack: LocalStack;
let s3: S3Client;
const dirs: string[] = [];

beforeAll(async () => {
  stack = await sharedStack();
  s3 = s3Client(stack);
});
afterAll(async () => {
  s3?.destroy();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const MODIFIED = 40;
const ADDED = 100;

/** v1: the fixture plus 100 generated files; v2: 40 of them changed (a-mod/, uploaded first),
 *  100 added (b-add/) and 10 deleted. */
function trees(): { v1: string; v2: string } {
  const v1 = tempDir('v1');
  fixtureTree(v1);
  const generated: Record<string, string> = {};
  for (let i = 0; i < 100; i++)
    generated[`${i < MODIFIED ? 'a-mod' : 'c-same'}/file-${i}.ts`] = `export const v = ${i};\n`;
  writeFiles(v1, generated);
  const v2 = tempDir('v2');
  cpSync(v1, v2, { recursive: true, verbatimSymlinks: true });
  const changes: Record<string, string> = {};
  for (let i = 0; i < MODIFIED; i++) changes[`a-mod/file-${i}.ts`] = `export const v = ${i} * 2;\n`;
  for (let i = 0; i < ADDED; i++) changes[`b-add/file-${i}.ts`] = `export const added = ${i};\n`;
  writeFiles(v2, changes);
  for (let i = 90; i < 100; i++) rmSync(join(v2, `c-same/file-${i}.ts`));
  dirs.push(v1, v2);
  return { v1, v2 };
}

const sync = (root: string, branch: string) =>
  syncMirror({ s3, bucket: BUCKET, tenant: 'tenant-a', branch, root, excludes: EXCLUDES });

async function countUnder(prefix: string): Promise<number> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return page.KeyCount ?? 0;
}

/** Runs a sync of `root` in a child process, through a proxy that lets the first `added` uploads
 *  to b-add/ through and holds every later one (never answered), and kills it (SIGKILL) once
 *  those `added` are stored: mid-sync whatever the machine's speed. */
async function killedSync(root: string, branch: string, added: number): Promise<void> {
  const prefix = `repos/tenant-a/${branch}/b-add/`;
  const proxy = await startFaultProxy(Number(new URL(stack.url).port));
  const addedPut = new RegExp(`/${BUCKET}/${prefix}[^?]+\\?`);
  proxy.add({ method: 'PUT', url: addedPut, skip: added, times: Infinity, fault: { kind: 'stall' } });
  const args = {
    endpoint: throughProxy(stack.s3Endpoint, proxy),
    bucket: BUCKET,
    tenant: 'tenant-a',
    branch,
    root,
    excludes: EXCLUDES,
    concurrency: 2,
  };
  const child = spawn(process.execPath, [join(ROOT, 'test/helpers/mirror-child.ts'), JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await Promise.race([
      proxy.until(
        (seen) =>
          seen.filter((r) => r.method === 'PUT' && addedPut.test(r.url) && r.status === 200).length >= added,
      ),
      exited.then(() => {
        throw new Error(`the sync ended before it was killed:\n${output}`);
      }),
    ]);
  } finally {
    child.kill('SIGKILL');
    await exited;
    await proxy.close();
  }
  const left = await countUnder(prefix);
  expect(left).toBeGreaterThanOrEqual(added);
  expect(left).toBeLessThan(ADDED); // really interrupted
}

async function manifestState(branch: string): Promise<string> {
  const dir = tempDir('manifest');
  dirs.push(dir);
  await aws(
    stack,
    's3',
    'cp',
    '--quiet',
    `s3://${BUCKET}/${mirrorManifestKey('tenant-a', branch)}`,
    join(dir, 'm'),
  );
  return JSON.parse(readFileSync(join(dir, 'm'), 'utf8')).state;
}

test('the next run with the same tree completes it', async () => {
  const { v1, v2 } = trees();
  await sync(v1, 'same');
  await killedSync(v2, 'same', 5);
  expect(await manifestState('same')).toBe('syncing');

  const result = await sync(v2, 'same');
  expect(result.checkedBy).toBe('interrupted-manifest');
  expect(await storedFiles(stack, 'repos/tenant-a/same/')).toEqual(expectedFiles(v2));
  expect(await manifestState('same')).toBe('complete');
  expect(await sync(v2, 'same')).toMatchObject({ uploaded: 0, deleted: 0, checkedBy: 'manifest' });
});

test('the next run with the tree reverted leaves no stale content and no stray files', async () => {
  const { v1, v2 } = trees();
  await sync(v1, 'revert/x');
  await killedSync(v2, 'revert/x', 5);
  // By now the changed files went up with v2's content: they are in doubt, as are b-add/.
  const result = await sync(v1, 'revert/x');
  expect(result.checkedBy).toBe('interrupted-manifest');
  expect(result.uploaded).toBeGreaterThanOrEqual(MODIFIED);
  expect(result.deleted).toBeGreaterThanOrEqual(5);
  expect(await storedFiles(stack, 'repos/tenant-a/revert/x/')).toEqual(expectedFiles(v1));
});
