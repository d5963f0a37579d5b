// `restore --history`: a backup's git bundle back as a repository with every ref it holds.
// git reads bundles from files only, so the download goes to a file in a staging directory
// beside the target, checked against the record's size and SHA-256 before git reads it; the
// repository is built there too, and moved into place only when every ref was fetched.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { downloadVerified, IntegrityError } from './archive.js';
import { withStaging } from './staging.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await exec('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

export interface RestoreHistoryOptions {
  open: (signal: AbortSignal) => Promise<Readable>;
  expected: { sha256: string; size: number };
  target: string;
  force?: boolean;
}

export interface RestoredHistory {
  target: string;
  refs: number;
  /** The checked-out commit, and the branch when HEAD named one. */
  head: { commit: string; branch?: string };
}

export async function restoreHistory(options: RestoreHistoryOptions): Promise<RestoredHistory> {
  return withStaging(options.target, options.force, async ({ target, staging, install }) => {
    const bundle = join(staging, 'history.bundle');
    await downloadVerified(options.open, bundle, options.expected, 'The git bundle', target);
    const repository = join(staging, 'repository');
    await mkdir(repository);
    await git(repository, 'init', '--quiet');
    try {
      await git(repository, 'bundle', 'verify', '--quiet', bundle);
    } catch (error) {
      throw new IntegrityError(
        `git bundle verify refused the bundle: ${(error as { stderr?: string }).stderr ?? error}`,
      );
    }
    // Every ref as it was: branches, tags and remote-tracking refs under their own names.
    await git(repository, 'fetch', '--quiet', '--update-head-ok', bundle, 'refs/*:refs/*');
    const head = await checkOutHead(repository, bundle);
    const refs = (await git(repository, 'for-each-ref', '--format=%(refname)'))
      .split('\n')
      .filter(Boolean).length;
    await install(repository);
    return { target, refs, head };
  });
}

/** HEAD as the bundle recorded it: the branch at that commit (the default branch first), else detached. */
async function checkOutHead(repository: string, bundle: string): Promise<RestoredHistory['head']> {
  const heads = (await git(repository, 'bundle', 'list-heads', bundle))
    .split('\n')
    .map((line) => line.split(' ') as [string, string]);
  const commit = heads.find(([, ref]) => ref === 'HEAD')?.[0];
  if (!commit) return { commit: '' };
  const branches = heads
    .filter(([sha, ref]) => sha === commit && ref.startsWith('refs/heads/'))
    .map(([, ref]) => ref);
  const branch =
    branches.find((ref) => ref === 'refs/heads/main' || ref === 'refs/heads/master') ?? branches[0];
  if (branch) {
    await git(repository, 'symbolic-ref', 'HEAD', branch);
    await git(repository, 'reset', '--quiet', '--hard');
    return { commit, branch: branch.slice('refs/heads/'.length) };
  }
  await git(repository, 'checkout', '--quiet', '--detach', commit);
  return { commit };
}
