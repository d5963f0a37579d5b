// The default excludes leave out build output, never what git tracks: trackedPaths reads the
// index of a real repository, createExclusion keeps what it lists, measureExcluded counts the rest.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackedPaths } from '../../../core/git/tracked.js';
import { createExclusion } from '../../../core/tree/excludes.js';
import { measureExcluded } from '../../../core/tree/size.js';

let repo: string;

const put = (path: string, text: string): void => {
  mkdirSync(join(repo, path, '..'), { recursive: true });
  writeFileSync(join(repo, path), text);
};

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'tracked-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: 'pipe' });
  git('init', '-q');
  put('src/index.ts', 'source');
  put('dist/index.js', 'committed bundle'); // tracked: kept
  put('dist/licenses.txt', 'committed');
  git('add', '.');
  put('dist/stale.map', 'build output'); // untracked inside a tracked dist/: left out
  put('web/dist/app.js', 'untracked build'); // an untracked dist/ elsewhere: left out
  put('node_modules/pkg/index.js', '12345'); // untracked: left out
  put('node_modules/pkg/package.json', '{}');
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

test('trackedPaths lists tracked files and the directories above them, relative to the root', async () => {
  const tracked = await trackedPaths(repo);
  for (const path of ['src', 'src/index.ts', 'dist', 'dist/index.js', 'dist/licenses.txt']) {
    expect([path, tracked.has(path)]).toEqual([path, true]);
  }
  for (const path of ['dist/stale.map', 'web', 'node_modules', '.git']) {
    expect([path, tracked.has(path)]).toEqual([path, false]);
  }
  // From a subdirectory, paths are relative to it.
  expect((await trackedPaths(join(repo, 'dist'))).has('index.js')).toBe(true);
});

test('outside a repository nothing is tracked', async () => {
  const plain = mkdtempSync(join(tmpdir(), 'untracked-'));
  try {
    expect((await trackedPaths(plain)).has('.')).toBe(false);
    expect((await trackedPaths(join(plain, 'missing'))).has('x')).toBe(false);
  } finally {
    rmSync(plain, { recursive: true, force: true });
  }
});

test('a tracked path matched by a default pattern is kept, its untracked entries are not', async () => {
  const exclusion = createExclusion(['.git', 'node_modules', 'dist'], await trackedPaths(repo));
  const decide = (path: string) => [path, exclusion.matcher(path)];
  expect(decide('dist')).toEqual(['dist', false]);
  expect(decide('dist/index.js')).toEqual(['dist/index.js', false]);
  expect(decide('dist/stale.map')).toEqual(['dist/stale.map', true]);
  expect(decide('web/dist')).toEqual(['web/dist', true]);
  expect(decide('node_modules')).toEqual(['node_modules', true]);
  expect(decide('.git')).toEqual(['.git', true]);
  expect(decide('src/index.ts')).toEqual(['src/index.ts', false]);
  expect(exclusion.keptTracked).toEqual([{ pattern: 'dist', relativePath: 'dist' }]);
  expect(exclusion.excluded.map((e) => `${e.pattern}:${e.relativePath}`)).toEqual([
    'dist:dist/stale.map',
    'dist:web/dist',
    'node_modules:node_modules',
    '.git:.git',
  ]);
});

test('without tracked paths a pattern excludes exactly as given', () => {
  const exclusion = createExclusion(['dist', '*.map']);
  expect(exclusion.matcher('dist')).toBe(true);
  expect(exclusion.matcher('a/b.map')).toBe(true);
  expect(exclusion.matcher('src')).toBe(false);
  expect(exclusion.keptTracked).toEqual([]);
  expect(exclusion.excluded).toEqual([
    { pattern: 'dist', relativePath: 'dist' },
    { pattern: '*.map', relativePath: 'a/b.map' },
  ]);
});

test('measureExcluded counts entries and bytes per pattern, directories with their contents', () => {
  const totals = measureExcluded(repo, [
    { pattern: 'node_modules', relativePath: 'node_modules' },
    { pattern: 'dist', relativePath: 'dist/stale.map' },
    { pattern: 'dist', relativePath: 'web/dist' },
    { pattern: 'gone', relativePath: 'no/such/path' },
  ]);
  expect(totals).toEqual([
    // node_modules, pkg, index.js (5 bytes), package.json (2 bytes)
    { pattern: 'node_modules', entries: 4, bytes: 7 },
    // stale.map (12 bytes); web/dist and app.js (15 bytes)
    { pattern: 'dist', entries: 3, bytes: 27 },
    { pattern: 'gone', entries: 1, bytes: 0 },
  ]);
});
