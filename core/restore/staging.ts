// Restores build beside their target (same file system, so moving into place is a rename) in a
// staging directory that is removed however the restore ends: on success, on an error, and on
// SIGINT or SIGTERM (Ctrl-C, or the runner cancelling a job or hitting its timeout). A lock
// file beside the target, created whole and exclusively, keeps two restores out of one target.
import { randomBytes } from 'node:crypto';
import { rmSync, statfsSync } from 'node:fs';
import { link, mkdir, mkdtemp, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

const live = new Set<string>();
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Restores between the two renames of moveIntoPlace: a signal meanwhile waits for the second
 *  (with --force the old target sits inside staging in between). */
let installing = 0;
let held: NodeJS.Signals | undefined;

function removeLiveAndExit(signal: NodeJS.Signals): void {
  if (installing > 0) {
    held = signal;
    return;
  }
  for (const path of live) rmSync(path, { recursive: true, force: true });
  console.error(
    held
      ? `Interrupted (${signal}) while the restored tree was moved into place: the move was let finish, and staging removed.`
      : `Interrupted (${signal}): the restore was abandoned and its staging removed.`,
  );
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
  /** Moves `built` (inside `staging`) into place as the target. */
  install: (built: string) => Promise<void>;
}

/** The lock's holder as read from one open file: its inode (which lock this is) and its pid,
 *  undefined when it names no process or cannot be read (then it counts as held); null when
 *  there is no lock. */
async function readLock(lock: string): Promise<{ ino: number; pid: number | undefined } | null> {
  let file;
  try {
    file = await open(lock, 'r');
    const { ino } = await file.stat();
    const pid = Number((await file.readFile('utf8')).trim());
    return { ino, pid: Number.isInteger(pid) && pid > 0 ? pid : undefined };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { ino: 0, pid: undefined };
  } finally {
    await file?.close();
  }
}

/** Removes the lock `dead` (inode) of a process that is gone, unless another process is
 *  already doing so. Only the process that creates `${lock}.takeover-{inode}` (a hard link to
 *  the lock: created whole or not at all) may remove that lock, so two processes taking over
 *  one dead lock cannot both win, and a lock taken meanwhile by a live process is never touched. */
async function removeDeadLock(lock: string, dead: number): Promise<void> {
  const claim = `${lock}.takeover-${dead}`;
  try {
    await link(lock, claim);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') return; // being taken over, or gone: look again
    throw error;
  }
  track(claim);
  try {
    // Read through the claim: the lock's name may hold another lock by now, and an inode number
    // freed by the dead lock may have been reused by a live one, which names its live process.
    const claimed = await readLock(claim);
    if (claimed?.ino === dead && claimed.pid !== undefined && !isAlive(claimed.pid)) {
      await rm(lock, { force: true });
    }
  } finally {
    await rm(claim, { force: true });
    untrack(claim);
  }
}

/** Takes the target for this process, or says who holds it. The lock appears whole, holding
 *  this process's pid: written to a file of its own first, then hard-linked to the lock's name
 *  (which fails when the name exists). A lock whose process is gone (a restore killed with
 *  SIGKILL) is taken over; one that names no process is treated as held. */
async function lockTarget(lock: string, target: string): Promise<void> {
  const mine = `${lock}.${process.pid}-${randomBytes(6).toString('hex')}`;
  track(mine);
  try {
    await writeFile(mine, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await link(mine, lock);
        track(lock);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readLock(lock);
      if (holder === null) continue; // released meanwhile
      if (holder.pid === undefined || isAlive(holder.pid)) {
        const who = holder.pid === undefined ? 'Another restore' : `Another restore (process ${holder.pid})`;
        throw new Error(
          `${who} is writing ${target}: wait for it, or remove ${lock} if it is gone. Nothing was written.`,
        );
      }
      await removeDeadLock(lock, holder.ino);
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
    }
    throw new Error(
      `Could not take ${lock} for ${target}: if no restore is running, remove it and any ${basename(lock)}.takeover-* beside it. Nothing was written.`,
    );
  } finally {
    await rm(mine, { force: true });
    untrack(mine);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `work` with a staging directory beside the target (refused when the target is not
 *  empty, unless forced: `force.name` is how the caller spells that), and removes the staging
 *  directory afterwards, whatever happens. */
export async function withStaging<T>(
  targetPath: string,
  force: { given: boolean | undefined; name: string },
  work: (staging: Staging) => Promise<T>,
): Promise<T> {
  const target = resolve(targetPath);
  const refuseNonEmpty = async (): Promise<void> => {
    if (!force.given && !(await isEmptyOrMissing(target))) {
      throw new Error(
        `Target directory ${target} is not empty: choose an empty directory, or use ${force.name} to replace it`,
      );
    }
  };
  await refuseNonEmpty();
  await mkdir(dirname(target), { recursive: true });
  const lock = join(dirname(target), `.${basename(target)}.restore-lock`);
  await lockTarget(lock, target);
  try {
    const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.restore-`));
    track(staging);
    try {
      // Checked again at the end: the target may have been filled while the archive came in.
      const install = async (built: string): Promise<void> => {
        await refuseNonEmpty();
        await moveIntoPlace(built, target);
      };
      return await work({ target, staging, install });
    } finally {
      await rm(staging, { recursive: true, force: true });
      untrack(staging);
    }
  } finally {
    await rm(lock, { force: true });
    untrack(lock);
  }
}

/** Bytes free for an unprivileged writer on the file system that holds `path`. */
export function freeBytes(path: string): number {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

/** Swap `built` in for the target; the old target is removed only after the swap. `built`
 *  must be inside a staging directory (the old target passes through it, so a signal between
 *  the two renames waits for the second). */
async function moveIntoPlace(built: string, target: string): Promise<void> {
  const old = `${built}.old`;
  let hadTarget = true;
  installing++;
  try {
    try {
      await rename(target, old);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      hadTarget = false;
    }
    await rename(built, target);
  } finally {
    installing--;
    if (held) removeLiveAndExit(held);
  }
  if (hadTarget) await rm(old, { recursive: true, force: true });
}
