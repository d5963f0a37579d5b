// The default excludes leave out build output, never what git tracks: a repository that commits
// its dist/ (as JavaScript actions do) keeps it in the backup, and the log and the job summary
// say what was left out (per pattern: entries and bytes). An explicit exclude applies as given.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack } from '../helpers/shared-stack.js';
import { aws, runAction, s3Inputs } from './helpers.js';

const exec = promisify(execFile);
const BUCKET = 'tenant-a-github-backup';
let stack: LocalStack;
let repo: string;

const put = (path: string, text: string): void => {
  mkdirSync(join(repo, path, '..'), { recursive: true });
  writeFileSync(join(repo, path), text);
};

beforeAll(async () => {
  stack = await sharedStack();
  repo = mkdtempSync(join(tmpdir(), 'r2-backup-excludes-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: 'pipe' });
  git('init', '-q');
  put('src/main.ts', 'export {};\n');
  put('dist/index.js', 'the committed bundle\n');
  put('dist/licenses.txt', 'MIT\n');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'first');
  put('dist/index.js.map', 'a build output beside the committed bundle\n');
  put('node_modules/left-pad/index.js', 'x'.repeat(1000));
  put('node_modules/left-pad/package.json', '{}');
  put('build/out.bin', 'y'.repeat(300));
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

async function archiveEntries(key: string): Promise<string[]> {
  const object = join(repo, '..', `${key.split('/').pop()}`);
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, object);
  try {
    const { stdout } = await exec('tar', ['-tzf', object]);
    return stdout.split('\n').filter(Boolean).sort();
  } finally {
    rmSync(object, { force: true });
  }
}

test('default excludes keep tracked files, leave out untracked build output, and say what they left out', async () => {
  const run = await runAction({
    inputs: { ...s3Inputs(stack), tenant: 'tenant-a', path: repo, compression: 'gzip' },
  });
  expect(run.code).toBe(0);
  const entries = await archiveEntries(run.outputs['backup-key']!);
  expect(entries).toEqual(
    expect.arrayContaining(['dist/', 'dist/index.js', 'dist/licenses.txt', 'src/main.ts']),
  );
  for (const left of ['dist/index.js.map', 'node_modules/', 'build/', '.git/']) {
    expect(entries).not.toContain(left);
  }
  expect(entries.filter((e) => /^(node_modules|build|\.git)\//.test(e))).toEqual([]);
  // node_modules, left-pad, index.js (1000 B), package.json (2 B); build and out.bin (300 B).
  expect(run.stdout).toMatch(/Excluded: .*node_modules: 4 entries, 1002 B/);
  expect(run.stdout).toMatch(/Excluded: .*build: 2 entries, 300 B/);
  expect(run.stdout).toMatch(/Excluded: .*dist: 1 entry, 43 B/);
  expect(run.stdout).toMatch(/Excluded: .*\.git: \d+ entries/);
  expect(run.stdout).toContain('Kept although a default exclude matches, because git tracks it: dist');
  expect(run.summary).toMatch(/<td>Excluded<\/td><td>[^\n]*node_modules: 4 entries, 1002 B/);
  expect(run.summary).toContain('kept (tracked by git): dist');
});

test('an explicit exclude applies exactly as given, tracked or not', async () => {
  const run = await runAction({
    inputs: {
      ...s3Inputs(stack),
      tenant: 'tenant-a',
      path: repo,
      compression: 'gzip',
      exclude: 'dist\n.git',
    },
  });
  expect(run.code).toBe(0);
  const entries = await archiveEntries(run.outputs['backup-key']!);
  expect(entries.filter((e) => e.startsWith('dist'))).toEqual([]);
  expect(entries).toEqual(expect.arrayContaining(['node_modules/left-pad/index.js', 'build/out.bin']));
  expect(run.stdout).toMatch(/Excluded: \.git: \d+ entries, [^;]+; dist: 4 entries, \d+ B$/m);
  expect(run.stdout).not.toContain('Kept although');
});
