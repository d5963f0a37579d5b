// `restore --history`: a backup's git bundle back as a repository with every ref it holds.
// git reads bundles from files only, so the download goes to a file beside the target, checked
// against the record's size and SHA-256 while it is written; the repository is built beside the
// target too, and moved into place only when the bundle verified and every ref was fetched.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createHashCounter } from './hash-stream.js';
import { IntegrityError, moveIntoPlace, stageBeside } from './restore.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await exec('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

export interface RestoreHistoryOptions {
  open: () => Promise<Readable>;
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
  const { target, staging } = await stageBeside(options.target, options.force);
  const bundle = `${staging}.bundle`;
  try {
    const counter = createHashCounter();
    await pipeline(await options.open(), counter.transform, createWriteStream(bundle));
    const { sha256, size } = counter.digest();
    if (size !== options.expected.size || sha256 !== options.expected.sha256) {
      throw new IntegrityError(
        `The git bundle does not match its metadata: expected ${options.expected.size} bytes with SHA-256 ${options.expected.sha256}, ` +
          `read ${size} bytes with SHA-256 ${sha256}. ${target} was left as it was.`,
      );
    }
    await git(staging, 'init', '--quiet');
    try {
      await git(staging, 'bundle', 'verify', '--quiet', bundle);
    } catch (error) {
      throw new IntegrityError(
        `git bundle verify refused the bundle: ${(error as { stderr?: string }).stderr ?? error}`,
      );
    }
    // Every ref as it was: branches, tags and remote-tracking refs under their own names.
    await git(staging, 'fetch', '--quiet', '--update-head-ok', bundle, 'refs/*:refs/*');
    const head = await checkOutHead(staging, bundle);
    const refs = (await git(staging, 'for-each-ref', '--format=%(refname)'))
      .split('\n')
      .filter(Boolean).length;
    await moveIntoPlace(staging, target);
    return { target, refs, head };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(bundle, { force: true });
  }
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
