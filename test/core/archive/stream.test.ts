// core/archive/stream.ts: the archive GNU tar reads back, excludes as GNU tar matches them, errors,
// and backpressure from the consumer to the walk.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_EXCLUDES, createArchiveStream } from '../../../core/archive/stream.js';
import { createHashCounter } from '../../../core/streams/hash.js';
import type { Compression } from '../../../common/validate.js';
import { stalled } from '../../helpers/stall.js';
import { LONG_DIR, LONG_NAME, buildFixture, gnuTarReference, snapshotTree } from './fixture.js';

let work: string;
let source: string;
let server: Server;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'archive-test-'));
  source = join(work, 'source');
  server = await buildFixture(source);
});
afterAll(async () => {
  if (server) await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

const EXTRACT_FLAGS: Record<Compression, string[]> = {
  none: ['-xf'],
  gzip: ['-xzf'],
  zstd: ['--zstd', '-xf'],
};

async function archiveToFile(compression: Compression, excludes: string[], name: string) {
  const file = join(work, name);
  const skipped: string[] = [];
  const { stream, result } = createArchiveStream({
    root: source,
    excludes,
    compression,
    onSkip: (path) => skipped.push(path),
  });
  const hash = createHashCounter();
  await pipeline(stream, hash.transform, createWriteStream(file));
  return { file, result: await result, digest: hash.digest(), skipped };
}

function extract(file: string, compression: Compression, name: string): string {
  const into = join(work, name);
  mkdirSync(into);
  execFileSync('tar', ['-C', into, ...EXTRACT_FLAGS[compression], file]);
  return into;
}

function nonDirectoryCount(tree: Map<string, { type: string }>): number {
  return [...tree.values()].filter((e) => e.type !== 'dir').length;
}

describe.each<Compression>(['gzip', 'zstd', 'none'])('archive with %s', (compression) => {
  test('GNU tar extracts the source minus the default excludes', async () => {
    const { file, result, digest, skipped } = await archiveToFile(
      compression,
      DEFAULT_EXCLUDES,
      `default.${compression}`,
    );
    const extracted = extract(file, compression, `out-default-${compression}`);
    const reference = join(work, `ref-default-${compression}`);
    gnuTarReference(source, DEFAULT_EXCLUDES, reference);

    const got = snapshotTree(extracted);
    const want = snapshotTree(reference);
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));

    // The excludes did exclude at every depth, and only whole names.
    expect(got.has('build.txt')).toBe(true);
    expect(got.has('notbuild/keep.txt')).toBe(true);
    expect(got.has('src/lib/vendor/kept.js')).toBe(true);
    for (const gone of [
      '.git',
      'src/lib/vendor/node_modules',
      'packages/app/dist',
      'packages/app/.next',
      'docs/build',
      '.cache',
    ]) {
      expect(got.has(gone)).toBe(false);
    }
    // Special cases, stated explicitly as well as through the comparison.
    expect(got.get('bin/run.sh')!.mode).toBe(0o755);
    expect(got.get('secrets/private.key')!.mode).toBe(0o600);
    expect(got.get('secrets')!.mode).toBe(0o700);
    expect(got.get('dangling-link')).toEqual({ type: 'symlink', mode: 0, target: 'does/not/exist' });
    expect(got.get('dir-link')).toEqual({ type: 'symlink', mode: 0, target: 'packages/app' });
    expect(got.get('absolute-link')!.target).toBe('/etc/hostname');
    expect(got.get('empty-dir')!.type).toBe('dir');
    expect(got.get('nested/empty/dirs')!.type).toBe('dir');
    expect(got.has('ünïcödé/文件 名.txt')).toBe(true);
    expect(got.has(LONG_DIR + LONG_NAME)).toBe(true);
    expect(got.has('a-socket')).toBe(false);
    expect(got.has('a-fifo')).toBe(false);
    expect(skipped.sort()).toEqual(['a-fifo', 'a-socket']);
    // The hard link pair is still one inode after extraction.
    expect(lstatSync(join(extracted, 'hard/second-name.txt')).ino).toBe(
      lstatSync(join(extracted, 'hard/original.txt')).ino,
    );

    expect(result.fileCount).toBe(nonDirectoryCount(want));
    expect(result.bytesIn).toBeGreaterThan(6 * 1024 * 1024);
    const sha256sum = execFileSync('sha256sum', [file]).toString().split(' ')[0];
    expect(digest.sha256).toBe(sha256sum);
    expect(digest.size).toBe(lstatSync(file).size);
    if (compression === 'gzip') execFileSync('gunzip', ['-t', file]);
    if (compression === 'zstd') execFileSync('zstd', ['-q', '-t', file]);
  });
});

test('user patterns match like GNU tar --exclude (globs, classes, paths with a slash)', async () => {
  const excludes = ['*.log', 'packages/app', '[bd]ocs', 'secr?ts', 'ünïcödé', 'nested/empty', './README.md'];
  // One deliberate difference: GNU tar never matches a pattern with a trailing '/'; we
  // ignore the '/', as a user writing `dir/` means.
  const { file, result } = await archiveToFile('gzip', [...excludes, 'dir/'], 'patterns.tgz');
  const extracted = extract(file, 'gzip', 'out-patterns');
  const reference = join(work, 'ref-patterns');
  gnuTarReference(source, [...excludes, 'dir'], reference);
  const got = snapshotTree(extracted);
  expect(Object.fromEntries(got)).toEqual(Object.fromEntries(snapshotTree(reference)));
  expect(got.has('logs/app.log')).toBe(false);
  expect(got.has('logs')).toBe(true);
  expect(got.has('.git/HEAD')).toBe(true); // the input replaces the defaults
  expect(result.fileCount).toBe(nonDirectoryCount(got));
});

test('a missing root rejects the result and errors the stream', async () => {
  const { stream, result } = createArchiveStream({
    root: join(work, 'nope'),
    excludes: [],
    compression: 'gzip',
  });
  await expect(pipeline(stream, createWriteStream(join(work, 'nope.tgz')))).rejects.toThrow(/ENOENT/);
  await expect(result).rejects.toThrow(/ENOENT/);
});

test('a consumer that gives up destroys the pipeline and rejects the result', async () => {
  const { stream, result } = createArchiveStream({ root: source, excludes: [], compression: 'zstd' });
  stream.once('data', () => stream.destroy(new Error('upload failed')));
  await expect(result).rejects.toThrow('upload failed');
});

describe('backpressure', () => {
  let bigRoot: string;
  const SIZE = 64 * 1024 * 1024;
  beforeAll(() => {
    bigRoot = join(work, 'big');
    mkdirSync(bigRoot);
    // Incompressible, so that the output is as large as the input and an unbounded producer
    // would buffer most of it while the consumer waits.
    for (const name of ['random1.bin', 'random2.bin']) writeFileSync(join(bigRoot, name), randomBytes(SIZE));
  });

  test.each<Compression>(['none', 'gzip', 'zstd'])(
    '%s: a paused consumer stops the walk',
    async (compression) => {
      const before = process.memoryUsage().arrayBuffers;
      const { stream, result } = createArchiveStream({ root: bigRoot, excludes: [], compression });
      // Read a little, then stop reading until the pipeline has stopped.
      await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
      stream.read();
      await stalled(stream);
      const buffered = process.memoryUsage().arrayBuffers - before;
      expect(stream.readableLength).toBeLessThanOrEqual(8 * 1024 * 1024);
      // The source is 128 MiB; what a paused pipeline holds is a few blocks per stage (plus
      // garbage not yet collected).
      expect(buffered).toBeLessThan(64 * 1024 * 1024);
      // The compressor takes no more input while its output waits: the walk behind it is paused.
      if (compression !== 'none') expect((stream as Duplex).writableNeedDrain).toBe(true);
      // Then read it all: it completes.
      stream.resume();
      await expect(result).resolves.toEqual({
        fileCount: 2,
        bytesIn: 2 * SIZE,
        excluded: [],
        keptTracked: [],
      });
    },
  );
});
