// A repository whose `*.bin` files are in Git LFS, pushed with their objects to a file:// remote
// (git-lfs's standalone file transfer: no server), and a clone of it without the objects, as
// actions/checkout leaves one with `lfs: false`. Commits are made in the order given, each on
// its branch (created from main when new).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** git with an identity, and without git-lfs's smudge filter (pointers stay pointers). */
export const gitWithoutLfsContent = async (cwd: string, ...args: string[]): Promise<string> =>
  (
    await exec('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
      cwd,
      env: { ...process.env, GIT_LFS_SKIP_SMUDGE: '1' },
      maxBuffer: 16 * 1024 * 1024,
    })
  ).stdout.trim();

export interface LfsCommit {
  branch: string;
  file: string;
  content: Buffer | string;
}

/** `{work}/origin.git` with the commits and their LFS objects, and `{work}/checkout`, a clone
 *  without the objects whose LFS remote is the origin. */
export async function makeLfsRepository(
  work: string,
  commits: LfsCommit[],
): Promise<{ origin: string; checkout: string }> {
  const git = gitWithoutLfsContent;
  const origin = join(work, 'origin.git');
  await git(work, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
  const author = join(work, 'author');
  mkdirSync(author);
  await git(author, 'init', '--quiet', '--initial-branch=main');
  await git(author, 'lfs', 'install', '--local');
  await git(author, 'lfs', 'track', '*.bin');
  await git(author, 'remote', 'add', 'origin', `file://${origin}`);
  const branches = new Set(['main']);
  let current = 'main';
  for (const { branch, file, content } of commits) {
    if (branch !== current) {
      await git(author, 'checkout', '--quiet', ...(branches.has(branch) ? [branch] : ['-b', branch, 'main']));
      branches.add(branch);
      current = branch;
    }
    writeFileSync(join(author, file), content);
    await git(author, 'add', '.gitattributes', file);
    await git(author, 'commit', '--quiet', '-m', file);
  }
  await git(author, 'checkout', '--quiet', 'main');
  await git(author, 'push', '--quiet', 'origin', ...branches);
  await git(author, 'lfs', 'push', '--all', 'origin');
  const checkout = join(work, 'checkout');
  await git(work, 'clone', '--quiet', `file://${origin}`, checkout);
  await git(checkout, 'config', 'lfs.url', `file://${origin}`);
  return { origin, checkout };
}
