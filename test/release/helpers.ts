// Runs scripts/release.ts in a test's own repository (a clone of this one, or a small one) and
// checks what it leaves: the git helpers the release suites share.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface ReleaseRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface TestRepository {
  dir: string;
  git: (...args: string[]) => Promise<string>;
  /** A file of a commit, as bytes. */
  show: (ref: string, path: string) => Promise<Buffer>;
  /** The release script as `npm run release -- ARGS` runs it (through npm itself when `viaNpm`). */
  release: (args: string[], viaNpm?: boolean) => Promise<ReleaseRun>;
  commitAll: (message: string) => Promise<void>;
}

export async function testRepository(dir: string): Promise<TestRepository> {
  const git = async (...args: string[]): Promise<string> =>
    (await exec('git', args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
  // The release commits and tags as someone, never signs, whatever the machine's git config says.
  for (const [key, value] of [
    ['user.name', 'Release Test'],
    ['user.email', 'release-test@example.invalid'],
    ['commit.gpgSign', 'false'],
    ['tag.gpgSign', 'false'],
  ] as const) {
    await git('config', key, value);
  }
  return {
    dir,
    git,
    show: async (ref, path) =>
      (
        await exec('git', ['show', `${ref}:${path}`], {
          cwd: dir,
          encoding: 'buffer',
          maxBuffer: 64 * 1024 * 1024,
        })
      ).stdout,
    release: (args, viaNpm = false) => {
      const child = viaNpm
        ? spawn('npm', ['run', '--silent', 'release', '--', ...args], { cwd: dir })
        : spawn(process.execPath, [join(dir, 'scripts/release.ts'), ...args], { cwd: dir });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    },
    commitAll: async (message) => {
      await git('add', '--all');
      await git('commit', '--quiet', '-m', message);
    },
  };
}

/** Everything a refused release must leave as it was: refs, HEAD, the working tree. */
const state = async (repo: TestRepository): Promise<string> =>
  [
    await repo.git('for-each-ref'),
    await repo.git('rev-parse', 'HEAD'),
    await repo.git('status', '--porcelain'),
  ].join('\n');

/** Runs a release that must be refused with `message` and change nothing. */
export async function expectRefused(
  repo: TestRepository,
  args: string[],
  message: string | RegExp,
): Promise<void> {
  const before = await state(repo);
  const run = await repo.release(args);
  if (typeof message === 'string') expect(run.stderr).toContain(message);
  else expect(run.stderr).toMatch(message);
  expect(run.code).toBe(1);
  expect(await state(repo)).toBe(before);
}

/** Makes `entry` (or nothing) the Unreleased section of CHANGELOG.md, and commits it. */
export async function setUnreleased(repo: TestRepository, entry: string): Promise<void> {
  const file = join(repo.dir, 'CHANGELOG.md');
  const section = /^## \[Unreleased\]\n[^]*?(?=^## \[|^\[Unreleased\]: )/m;
  const text = readFileSync(file, 'utf8');
  expect(text).toMatch(section);
  writeFileSync(file, text.replace(section, `## [Unreleased]\n\n${entry ? `${entry}\n\n` : ''}`));
  if (await repo.git('status', '--porcelain'))
    await repo.commitAll('Changelog: what the next release changes');
}

export const packageVersion = async (repo: TestRepository, ref: string): Promise<string> =>
  (JSON.parse((await repo.show(ref, 'package.json')).toString()) as { version: string }).version;

export const utcToday = (): string => new Date().toISOString().slice(0, 10);
