// Shared by the mirror suites: fixture trees and the check that a bucket prefix holds exactly
// a tree, made with awscli (an S3 client that is not ours): listing plus downloaded contents.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LocalStack } from '../../scripts/local-stack.js';
import { snapshotTree } from '../helpers/tree.js';
import { aws } from '../worker/helpers.js';

export const BUCKET = 'tenant-a-github-backup';
export const EXCLUDES = ['.git', 'node_modules'];

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `mirror-${name}-`));
}

export function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A small source tree with the cases a checkout has: nesting, odd names, an empty file, a
 *  binary, excluded directories and a symbolic link (not mirrored). */
export function fixtureTree(root: string): void {
  writeFiles(root, {
    'README.md': '# fixture\n',
    'package.json': '{"name":"fixture"}\n',
    'src/index.ts': 'export const a = 1;\n',
    'src/lib/util.js': 'module.exports = 2;\n',
    'src/lib/deep/er/still.css': 'body{}\n',
    'docs/page.html': '<script>alert(1)</script>\n',
    'docs/with space.txt': 'spaces\n',
    'docs/ünïcödé.md': 'unicode\n',
    'empty.txt': '',
    'assets/blob.bin': randomBytes(200_000),
    'assets/logo.png': randomBytes(1000),
    Makefile: 'all:\n',
    'node_modules/dep/index.js': 'excluded\n',
    '.git/HEAD': 'ref: refs/heads/main\n',
    'src/node_modules/nested.js': 'excluded too\n',
  });
  symlinkSync('README.md', join(root, 'link-to-readme'));
}

/** The tree's regular files (minus excludes), path -> SHA-256. */
export function expectedFiles(root: string): Record<string, string> {
  const snapshot = snapshotTree(root, (path) => path.split('/').some((part) => EXCLUDES.includes(part)));
  const out: Record<string, string> = {};
  for (const [path, entry] of Object.entries(snapshot)) if (entry.type === 'file') out[path] = entry.sha256!;
  return out;
}

interface ListedObject {
  Key: string;
  Size: number;
  ETag: string;
}

export async function awsList(stack: LocalStack, prefix: string): Promise<ListedObject[]> {
  const out = await aws(
    stack,
    's3api',
    'list-objects-v2',
    '--bucket',
    BUCKET,
    '--prefix',
    prefix,
    '--output',
    'json',
  );
  return out.trim() === '' ? [] : ((JSON.parse(out).Contents ?? []) as ListedObject[]);
}

/** path -> SHA-256 of every object under the prefix, by awscli's listing and download. */
export async function storedFiles(stack: LocalStack, prefix: string): Promise<Record<string, string>> {
  const listed = await awsList(stack, prefix);
  const dir = tempDir('download');
  try {
    if (listed.length > 0)
      await aws(stack, 's3', 'cp', '--recursive', '--quiet', `s3://${BUCKET}/${prefix}`, dir);
    const out: Record<string, string> = {};
    for (const { Key, Size } of listed) {
      const path = Key.slice(prefix.length);
      const data = readFileSync(join(dir, path));
      expect(data.length).toBe(Size);
      out[path] = createHash('sha256').update(data).digest('hex');
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
