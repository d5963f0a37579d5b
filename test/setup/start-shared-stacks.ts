// jest globalSetup: one local stack (wrangler dev) per jest worker, for the suites that need no
// configuration of their own (test/helpers/shared-stack.ts). Starting wrangler once per worker
// rather than once per suite saves a start for every suite after a worker's first.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.ts';
import { writeSharedStacks, type SharedStacks } from './shared-stacks-file.ts';

/** What the global teardown stops; it runs in this process (the suites run in the workers). */
interface Started {
  dir: string;
  stacks: LocalStack[];
}
const holder = globalThis as { sharedLocalStacks?: Started };

/** Stops the stacks the setup started and removes their directory (the global teardown). */
export async function stopSharedStacks(): Promise<void> {
  const started = holder.sharedLocalStacks;
  if (!started) return;
  delete holder.sharedLocalStacks;
  await Promise.all(started.stacks.map((stack) => stack.stop()));
  rmSync(started.dir, { recursive: true, force: true });
}

export default async function startSharedStacks(globalConfig: { maxWorkers: number }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'r2-backup-shared-stacks-'));
  const token = randomBytes(24).toString('hex');
  const workers = Array.from({ length: globalConfig.maxWorkers }, (_, i) => String(i + 1));
  const logFile = (worker: string): string => join(dir, `worker-${worker}.log`);
  const results = await Promise.allSettled(
    workers.map((worker) =>
      startLocalStack({ env: 'test', vars: { CLOUDCONNECT: token }, logFile: logFile(worker) }),
    ),
  );
  const stacks = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = results.find((result) => result.status === 'rejected');
  holder.sharedLocalStacks = { dir, stacks };
  if (failed) {
    // jest runs no teardown after a failed setup.
    await stopSharedStacks();
    throw failed.reason;
  }
  const shared: SharedStacks = { token, byWorker: {} };
  workers.forEach((worker, i) => {
    const { url, s3Endpoint, persistTo, pid } = stacks[i]!;
    shared.byWorker[worker] = { url, s3Endpoint, persistTo, pid, logFile: logFile(worker) };
  });
  writeSharedStacks(join(dir, 'stacks.json'), shared);
}
