// The file mirror as the runner runs it: `node dist/index.js` with sync-files, checked with
// awscli (listing plus contents) against the tree, across changes, branches and bad input.
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { BUCKET, EXCLUDES, expectedFiles, fixtureTree, storedFiles, tempDir } from '../mirror/helpers.js';
import { listKeys, runAction, s3Inputs, type RunOptions } from './helpers.js';

const TOKEN = sharedStackToken();
const PREFIX = 'repos/tenant-a/main/';
let stack: LocalStack;
let tree: string;

beforeAll(async () => {
  stack = await sharedStack();
  tree = tempDir('action');
  fixtureTree(tree);
});
afterAll(async () => {
  if (tree) rmSync(tree, { recursive: true, force: true });
});

const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...s3Inputs(stack),
  'api-url': stack.url,
  'api-token': TOKEN,
  tenant: 'tenant-a',
  bucket: BUCKET,
  path: tree,
  exclude: EXCLUDES.join('\n'),
  'sync-files': 'true',
  ...extra,
});

async function backup(options: Partial<RunOptions> = {}) {
  const run = await runAction({ inputs: inputs(), ...options });
  if (run.code !== 0) throw new Error(`the action failed:\n${run.stdout}\n${run.stderr}`);
  return run;
}

test('the first run mirrors the tree exactly, after storing the archive', async () => {
  const run = await backup();
  const expected = expectedFiles(tree);
  expect(await storedFiles(stack, PREFIX)).toEqual(expected);
  expect(run.outputs).toMatchObject({
    'files-uploaded': String(Object.keys(expected).length),
    'files-deleted': '0',
    'files-unchanged': '0',
  });
  expect(Number(run.outputs['sync-requests'])).toBeGreaterThan(Object.keys(expected).length);
  expect(run.outputs['backup-key']).toMatch(/^backups\/tenant-a\/\d{8}-\d{6}(-\d+)?\.tar\.gz$/);
  expect(run.summary).toMatch(/File mirror.*repos\/tenant-a\/main\/.*uploaded/s);
});

test('a changed, an added and a deleted file: two uploads, one delete, the prefix equals the tree', async () => {
  writeFileSync(join(tree, 'src/index.ts'), 'export const a = 2;\n');
  writeFileSync(join(tree, 'src/new file.ts'), 'export const b = 3;\n');
  unlinkSync(join(tree, 'Makefile'));
  const run = await backup();
  expect(run.outputs).toMatchObject({ 'files-uploaded': '2', 'files-deleted': '1' });
  expect(await storedFiles(stack, PREFIX)).toEqual(expectedFiles(tree));
});

test('an unchanged re-run uploads nothing in at most two requests', async () => {
  const run = await backup();
  expect(run.outputs['files-uploaded']).toBe('0');
  expect(run.outputs['files-deleted']).toBe('0');
  expect(run.outputs['files-unchanged']).toBe(String(Object.keys(expectedFiles(tree)).length));
  expect(Number(run.outputs['sync-requests'])).toBeLessThanOrEqual(2);
});

test('a branch with "/" gets its own prefix', async () => {
  await backup({
    event: 'workflow_dispatch',
    env: { GITHUB_REF: 'refs/heads/feature/x', GITHUB_REF_NAME: 'feature/x' },
  });
  expect(await storedFiles(stack, 'repos/tenant-a/feature/x/')).toEqual(expectedFiles(tree));
});

test('sync-keep-deleted keeps a file that is gone from the tree', async () => {
  writeFileSync(join(tree, 'temporary.txt'), 'soon gone\n');
  await backup();
  unlinkSync(join(tree, 'temporary.txt'));
  const run = await runAction({ inputs: inputs({ 'sync-keep-deleted': 'true' }) });
  expect(run.code).toBe(0);
  expect(run.outputs['files-deleted']).toBe('0');
  expect(Object.keys(await storedFiles(stack, PREFIX))).toContain('temporary.txt');
  // The next run without the input removes it.
  const cleanup = await backup();
  expect(cleanup.outputs['files-deleted']).toBe('1');
  expect(await storedFiles(stack, PREFIX)).toEqual(expectedFiles(tree));
});

test('sync-files without S3 keys stops before anything is uploaded, naming the input', async () => {
  const before = await listKeys(stack, BUCKET, 'backups/tenant-a/');
  const run = await runAction({
    inputs: {
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: 'tenant-a',
      bucket: BUCKET,
      path: tree,
      'sync-files': 'true',
    },
  });
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/::error::.*sync-files.*needs S3 keys/);
  expect(await listKeys(stack, BUCKET, 'backups/tenant-a/')).toEqual(before);
});
