// Hostile archives through safeExtract on the real file system (issue 16, /tmp/restore-spec.md):
// each case is refused, or (symbolic links as data, replaced names, a missing end marker)
// restored exactly; nothing outside the target changes, and no extraction takes long.
import { execFile, execFileSync } from 'node:child_process';
import {
  createReadStream,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { ROOT } from '../../scripts/local-stack.js';
import { safeExtract } from '../../core/restore/extract.js';
import type { Compression } from '../../common/validate.js';
import {
  HOSTILE_CASES,
  MEMORY_LIMIT_MIB,
  describeTree,
  dir,
  file,
  hardlink,
  makeBox,
  modesOf,
  oldGnuSparse,
  outsideState,
  symlink,
  sparse10,
  sparse10Data,
  symlinksOf,
  tar,
  zeroBomb,
  type HostileCase,
} from '../helpers/hostile-archives.js';

// The signature the spec gives safeExtract; cast so that the suite also type-checks against the
// extractor it replaces.
type Extract = (
  source: Readable,
  compression: Compression,
  directory: string,
  options?: { maxBytes?: number },
) => Promise<{ entries: number; bytes: number; symlinks: { path: string; target: string }[] }>;
const extract = safeExtract as unknown as Extract;

// "A few seconds" for any hostile archive, the 100,000-level name and the bomb included.
const TIME_LIMIT_MS = 3000;
const REFUSAL = /^(UnsafeArchiveError|CorruptArchiveError)$/;

let work: string;
let boxes = 0;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hostile-'));
  mkdirSync(join(work, 'archives'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const newBox = () => makeBox(join(work, `box-${++boxes}`), { makeTarget: true });

/** Extract `archive` from a file, as restore does from its staged download. */
async function run(archive: Buffer, compression: Compression, target: string, maxBytes?: number) {
  const path = join(work, 'archives', `${boxes}.tar`);
  writeFileSync(path, archive);
  const started = performance.now();
  const options = maxBytes === undefined ? undefined : { maxBytes };
  const outcome = await extract(createReadStream(path), compression, target, options).then(
    (result) => ({ result, error: undefined }),
    (error: Error) => ({ result: undefined, error }),
  );
  return { ...outcome, ms: performance.now() - started };
}

/** What an extraction did, in a form whose mismatch reads well. */
const summary = (error: Error | undefined, target: string) =>
  error ? { error: error.name, message: error.message } : { restored: describeTree(target) };

test("the writer's archives read back with GNU tar as written", () => {
  const place = newBox();
  const long = `d/${'n'.repeat(150)}`;
  const path = join(work, 'archives', 'writer.tar');
  writeFileSync(
    path,
    tar([file('plain', 'one'), dir('d/'), file(long, 'two'), symlink('s', '../x'), hardlink('h', 'plain')]),
  );
  execFileSync('tar', ['-xf', path, '-C', place.target]);
  expect(describeTree(place.target)).toEqual({
    plain: 'one',
    d: 'dir',
    [long]: 'two',
    s: '-> ../x',
    h: 'one',
  });
  expect(lstatSync(join(place.target, 'h')).ino).toBe(lstatSync(join(place.target, 'plain')).ino);
});

test("the writer's sparse files (old GNU with extension blocks, pax 1.0) restore as GNU tar extracts them", async () => {
  // As GNU tar writes them: whole blocks of data, and a last, empty region at the real size.
  const block = (i: number): string => String.fromCharCode(0x61 + (i % 26)).repeat(512);
  const regions = Array.from({ length: 30 }, (_, i): [number, number] => [2048 * i, 512]);
  const stored = Buffer.from(regions.map((_, i) => block(i)).join(''));
  const archive = Buffer.concat([
    oldGnuSparse('old', 61_440, [...regions, [61_440, 0]], stored),
    tar([
      sparse10(9000),
      file(
        'new',
        sparse10Data(
          [
            [512, 512],
            [4096, 512],
            [9000, 0],
          ],
          block(0) + block(1),
        ),
      ),
    ]),
  ]);
  const gnu = newBox();
  const path = join(work, 'archives', 'sparse.tar');
  writeFileSync(path, archive);
  execFileSync('tar', ['-xf', path, '-C', gnu.target]);
  const ours = newBox();
  const { error } = await run(archive, 'none', ours.target);
  expect(error).toBeUndefined();
  for (const name of ['old', 'new']) {
    const restored = readFileSync(join(ours.target, name));
    expect(restored).toEqual(readFileSync(join(gnu.target, name)));
    expect(restored.length).toBe(name === 'old' ? 61_440 : 9000);
  }
  expect(readdirSync(ours.target).sort()).toEqual(['new', 'old']);
});

test.each(HOSTILE_CASES.map((c) => [c.name, c] as [string, HostileCase]))('%s', async (_name, c) => {
  const place = newBox();
  const archive = c.archive(place);
  const before = outsideState(place.box);
  const { result, error, ms } = await run(archive, c.compression, place.target, c.maxBytes);

  expect(outsideState(place.box)).toEqual(before);
  expect(ms).toBeLessThan(TIME_LIMIT_MS);
  if (c.refused && (error || !c.restored)) {
    expect(summary(error, place.target)).toEqual({
      error: expect.stringMatching(REFUSAL),
      message: expect.stringMatching(c.refused),
    });
    // Short, and about the archive: no raw errno naming the directory extracted into.
    expect(error!.message.length).toBeLessThanOrEqual(1024);
    expect(error!.message).not.toContain(place.target);
  } else {
    expect(summary(error, place.target)).toEqual({ restored: c.restored });
    const symlinks = [...result!.symlinks].sort((a, b) => a.path.localeCompare(b.path));
    expect(symlinks).toEqual(symlinksOf(c.restored!));
    expect(modesOf(place.target, c.modes)).toEqual(c.modes ?? {});
  }
});

test.each(HOSTILE_CASES.filter((c) => c.boundedMemory).map((c) => [c.name, c] as [string, HostileCase]))(
  '%s: the extracting process stays small',
  async (_name, c) => {
    const place = newBox();
    const path = join(work, 'archives', `${boxes}.tar`);
    writeFileSync(path, c.archive(place));
    const child = join(ROOT, 'test/helpers/extract-child.ts');
    const { stdout } = await promisify(execFile)(process.execPath, [
      child,
      path,
      c.compression,
      place.target,
    ]);
    const { outcome, peakRssMiB } = JSON.parse(stdout) as { outcome: string; peakRssMiB: number };
    expect(outcome).toMatch(c.refused!);
    expect(peakRssMiB).toBeLessThan(MEMORY_LIMIT_MIB);
  },
);

test('a decompression bomb stops at maxBytes, before the limit is exceeded on disk', async () => {
  const limit = 10 * 1024 * 1024;
  const place = newBox();
  const bomb = await zeroBomb(200 * 1024 * 1024);
  const before = outsideState(place.box);
  const { error, ms } = await run(bomb, 'gzip', place.target, limit);
  expect(error?.message).toMatch(/limit/);
  expect(ms).toBeLessThan(TIME_LIMIT_MS);
  expect(apparentBytes(place.target)).toBeLessThanOrEqual(limit);
  expect(outsideState(place.box)).toEqual(before);
});

test('maxBytes counts content bytes: an archive of exactly the limit restores, one byte less refuses', async () => {
  const sizes = [300_000, 0, 123_457];
  const total = sizes.reduce((a, b) => a + b, 0);
  const archive = tar(sizes.map((size, i) => file(`f${i}`, 'z'.repeat(size))));
  const fits = newBox();
  const { result, error } = await run(archive, 'none', fits.target, total);
  expect(error).toBeUndefined();
  expect(result!.bytes).toBe(total);
  const over = newBox();
  const refused = await run(archive, 'none', over.target, total - 1);
  expect(refused.error?.message).toMatch(/limit/);
  expect(apparentBytes(over.target)).toBeLessThanOrEqual(total - 1);
});

test('maxBytes counts each entry at least 512 bytes: 2,048 empty entries fit 1 MiB, 2,049 do not', async () => {
  const limit = 1024 * 1024;
  const entries = (count: number) =>
    tar(Array.from({ length: count }, (_, i) => (i % 2 ? file(`f${i}`, '') : dir(`d${i}/`))));
  const fits = newBox();
  const { result, error } = await run(entries(2048), 'none', fits.target, limit);
  expect(error).toBeUndefined();
  expect(result!.entries).toBe(2048);
  const over = newBox();
  const refused = await run(entries(2049), 'none', over.target, limit);
  expect(refused.error?.message).toMatch(
    /limit of 1048576 bytes: 2049 entries, each counted as at least 512 bytes/,
  );
  expect(readdirSync(over.target).length).toBeLessThanOrEqual(2048);
});

/** The apparent size of every file under `root`. */
function apparentBytes(root: string): number {
  let bytes = 0;
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const stat = lstatSync(join(entry.parentPath, entry.name));
    if (stat.isFile()) bytes += stat.size;
  }
  return bytes;
}
