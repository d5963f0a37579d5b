// The mirror against the local R2 stack: after every sync the prefix holds exactly the tree
// (checked with awscli), an unchanged re-sync costs at most 2 requests, and a manifest that was
// edited, replaced or deleted by hand never leaves lost or stale files.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mirrorManifestKey } from '../../common/naming.js';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack } from '../helpers/shared-stack.js';
import { syncMirror, type MirrorOptions } from '../../core/mirror/sync.js';
import { aws, s3Client } from '../worker/helpers.js';
import {
  BUCKET,
  EXCLUDES,
  awsList,
  expectedFiles,
  fixtureTree,
  storedFiles,
  tempDir,
  writeFiles,
} from './helpers.js';

let stack: LocalStack;
let s3: S3Client;
const roots: string[] = [];

beforeAll(async () => {
  stack = await sharedStack();
  s3 = s3Client(stack);
});
afterAll(async () => {
  s3?.destroy();
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function newTree(name: string): string {
  const root = tempDir(name);
  roots.push(root);
  fixtureTree(root);
  return root;
}

const sync = (root: string, branch: string, extra: Partial<MirrorOptions> = {}) =>
  syncMirror({ s3, bucket: BUCKET, tenant: 'tenant-a', branch, root, excludes: EXCLUDES, ...extra });

async function expectMirrored(root: string, branch: string): Promise<void> {
  expect(await storedFiles(stack, `repos/tenant-a/${branch}/`)).toEqual(expectedFiles(root));
}

test('mirrors a tree, then uploads only changes, adds, deletes and renames', async () => {
  const root = newTree('edits');
  const first = await sync(root, 'main');
  const fileCount = Object.keys(expectedFiles(root)).length;
  expect(first).toMatchObject({ uploaded: fileCount, deleted: 0, unchanged: 0, checkedBy: 'listing' });
  expect(first.skipped).toEqual(['link-to-readme']);
  await expectMirrored(root, 'main');

  writeFileSync(join(root, 'src/index.ts'), 'export const a = 2;\n'); // changed
  writeFiles(root, { 'src/new/file.ts': 'new\n' }); // added
  unlinkSync(join(root, 'docs/with space.txt')); // deleted
  renameSync(join(root, 'src/lib/util.js'), join(root, 'src/lib/utils.js')); // renamed
  const second = await sync(root, 'main');
  expect(second).toMatchObject({ uploaded: 3, deleted: 2, unchanged: fileCount - 3, checkedBy: 'manifest' });
  await expectMirrored(root, 'main');

  const third = await sync(root, 'main');
  expect(third).toMatchObject({ uploaded: 0, deleted: 0, checkedBy: 'manifest' });
  expect(third.requests.classA + third.requests.classB).toBeLessThanOrEqual(2);
  expect(third.requests.byOperation).toEqual({ GetObject: 1, ListObjectsV2: 1 });
});

test('keeps a sensible Content-Type per file', async () => {
  const root = newTree('types');
  await sync(root, 'types');
  const paths = ['src/index.ts', 'docs/page.html', 'package.json', 'assets/logo.png', 'assets/blob.bin'];
  const types = await Promise.all(
    paths.map(async (path) => {
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: `repos/tenant-a/types/${path}` }),
      );
      return head.ContentType;
    }),
  );
  expect(types).toEqual([
    'text/plain; charset=utf-8',
    'text/plain; charset=utf-8',
    'application/json',
    'image/png',
    'application/octet-stream',
  ]);
});

test('branch names with "/" mirror under their own prefix, the manifest beside them', async () => {
  const root = newTree('slash');
  const result = await sync(root, 'feature/deep/x');
  expect(result.prefix).toBe('repos/tenant-a/feature/deep/x/');
  expect(result.manifestKey).toBe('repos/tenant-a/.mirror-manifests/feature/deep/x.json');
  await expectMirrored(root, 'feature/deep/x');
  expect((await sync(root, 'feature/deep/x')).uploaded).toBe(0);
});

test('refuses a bad tenant or branch before any request', async () => {
  const root = newTree('bad');
  await expect(sync(root, 'a..b')).rejects.toThrow('Invalid branch');
  await expect(
    syncMirror({ s3, bucket: BUCKET, tenant: '../x', branch: 'main', root, excludes: [] }),
  ).rejects.toThrow('Invalid tenant');
  expect(await awsList(stack, 'repos/tenant-a/a..b')).toEqual([]);
});

test('deleteRemoved false keeps stored files whose file is gone', async () => {
  const root = newTree('keep');
  await sync(root, 'keep');
  const before = expectedFiles(root);
  unlinkSync(join(root, 'README.md'));
  writeFileSync(join(root, 'src/index.ts'), 'changed\n');
  const result = await sync(root, 'keep', { deleteRemoved: false });
  expect(result).toMatchObject({ uploaded: 1, deleted: 0, kept: 1 });
  expect(await storedFiles(stack, 'repos/tenant-a/keep/')).toEqual({
    ...expectedFiles(root),
    'README.md': before['README.md'],
  });
  // The kept file stays accounted for: the next sync trusts the manifest and still keeps it.
  expect(await sync(root, 'keep', { deleteRemoved: false })).toMatchObject({
    uploaded: 0,
    kept: 1,
    checkedBy: 'manifest',
  });
  expect(await sync(root, 'keep')).toMatchObject({ deleted: 1 });
  await expectMirrored(root, 'keep');
});

describe('a manifest changed outside the mirror', () => {
  const manifestOf = (branch: string): string => mirrorManifestKey('tenant-a', branch);

  async function readManifestJson(branch: string): Promise<{ files: Record<string, { sha256: string }> }> {
    const dir = tempDir('manifest');
    roots.push(dir);
    await aws(stack, 's3', 'cp', '--quiet', `s3://${BUCKET}/${manifestOf(branch)}`, join(dir, 'm.json'));
    return JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
  }

  async function putManifestJson(branch: string, manifest: unknown): Promise<void> {
    const dir = tempDir('manifest');
    roots.push(dir);
    writeFileSync(join(dir, 'm.json'), JSON.stringify(manifest));
    await aws(stack, 's3', 'cp', '--quiet', join(dir, 'm.json'), `s3://${BUCKET}/${manifestOf(branch)}`);
  }

  test('edited by hand (wrong hashes, missing and extra entries): no lost or stale files', async () => {
    const root = newTree('edited');
    await sync(root, 'edited');
    const manifest = await readManifestJson('edited');
    manifest.files['src/index.ts']!.sha256 = '0'.repeat(64); // wrong hash
    delete manifest.files['README.md']; // missing entry
    manifest.files['ghost.txt'] = { sha256: 'f'.repeat(64) }; // extra entry
    await putManifestJson('edited', manifest);
    // Meanwhile the tree changes: a file gone that the manifest no longer lists would stay
    // stale, and the changed file it wrongly lists as current would be lost.
    unlinkSync(join(root, 'README.md'));
    writeFileSync(join(root, 'Makefile'), 'changed:\n');
    const result = await sync(root, 'edited');
    expect(result.checkedBy).toBe('listing');
    expect(result.fallbackReason).toContain('checksum');
    expect(result).toMatchObject({ uploaded: 1, deleted: 1 }); // unchanged files matched by MD5 ETag
    await expectMirrored(root, 'edited');
    expect(await sync(root, 'edited')).toMatchObject({ uploaded: 0, checkedBy: 'manifest' });
  });

  test('deleted: a full listing rebuilds it without uploading unchanged files', async () => {
    const root = newTree('deleted');
    await sync(root, 'deleted');
    await aws(stack, 's3', 'rm', '--quiet', `s3://${BUCKET}/${manifestOf('deleted')}`);
    writeFiles(root, { 'added.ts': 'added\n' });
    const result = await sync(root, 'deleted');
    expect(result).toMatchObject({
      uploaded: 1,
      deleted: 0,
      checkedBy: 'listing',
      fallbackReason: 'no manifest',
    });
    await expectMirrored(root, 'deleted');
  });

  test('objects changed or removed by hand are found by the spot check', async () => {
    const root = newTree('handmade');
    await sync(root, 'handmade');
    await aws(stack, 's3', 'rm', '--quiet', `s3://${BUCKET}/repos/tenant-a/handmade/src/index.ts`);
    await aws(
      stack,
      's3',
      'cp',
      '--quiet',
      join(root, 'Makefile'),
      `s3://${BUCKET}/repos/tenant-a/handmade/stray.txt`,
    );
    const result = await sync(root, 'handmade');
    expect(result).toMatchObject({ uploaded: 1, deleted: 1, checkedBy: 'listing' });
    expect(result.fallbackReason).toContain('spot check');
    await expectMirrored(root, 'handmade');
  });
});

test('a file of 17 MiB goes up in parts and is recorded by what was sent', async () => {
  const root = newTree('large');
  writeFiles(root, { 'big/data.bin': randomBytes(17 * 1024 * 1024) });
  const result = await sync(root, 'large');
  expect(result.requests.byOperation).toMatchObject({ CreateMultipartUpload: 1, CompleteMultipartUpload: 1 });
  await expectMirrored(root, 'large');
  expect((await sync(root, 'large')).uploaded).toBe(0);
});
