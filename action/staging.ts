// Restores build beside their target (same file system, so moving into place is a rename) in a
// staging directory that is removed however the restore ends: on success, on an error, and on
// SIGINT or SIGTERM (Ctrl-C, or the runner cancelling a job or hitting its timeout).
import { rmSync, statfsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

const live = new Set<string>();
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

function removeLiveAndExit(signal: NodeJS.Signals): void {
  for (const path of live) rmSync(path, { recursive: true, force: true });
  console.error(`Interrupted (${signal}): the restore was abandoned and its staging removed.`);
  process.exit(SIGNAL_EXIT[signal]);
}

function track(path: string): void {
  if (live.size === 0) for (const signal of Object.keys(SIGNAL_EXIT)) process.on(signal, removeLiveAndExit);
  live.add(path);
}

function untrack(path: string): void {
  live.delete(path);
  if (live.size === 0) for (const signal of Object.keys(SIGNAL_EXIT)) process.off(signal, removeLiveAndExit);
}

async function isEmptyOrMissing(directory: string): Promise<boolean> {
  try {
    return (await readdir(directory)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

export interface Staging {
  /** The absolute target. */
  target: string;
  /** A fresh directory beside it, only this process's (mode 700). */
  staging: string;
}

/** Runs `work` with a staging directory beside the target (refused when the target is not
 *  empty, unless forced), and removes the staging directory afterwards, whatever happens. */
export async function withStaging<T>(
  targetPath: string,
  force: boolean | undefined,
  work: (staging: Staging) => Promise<T>,
): Promise<T> {
  const target = resolve(targetPath);
  if (!force && !(await isEmptyOrMissing(target))) {
    throw new Error(
      `Target directory ${target} is not empty: choose an empty directory, or pass --force to replace it`,
    );
  }
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.restore-`));
  track(staging);
  try {
    return await work({ target, staging });
  } finally {
    await rm(staging, { recursive: true, force: true });
    untrack(staging);
  }
}

/** Bytes free for an unprivileged writer on the file system that holds `path`. */
export function freeBytes(path: string): number {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

/** Swap `built` in for the target; the old target is removed only after the swap. `built`
 *  must be inside a staging directory (the old target passes through it). */
export async function moveIntoPlace(built: string, target: string): Promise<void> {
  const old = `${built}.old`;
  let hadTarget = true;
  try {
    await rename(target, old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    hadTarget = false;
  }
  await rename(built, target);
  if (hadTarget) await rm(old, { recursive: true, force: true });
}
