// The keep-* inputs: after a recorded backup, ask the Worker to apply the retention policy to
// the tenant. The Worker owns deletion (and never deletes the newest backup); a failed prune
// never touches the backup just stored.
import * as core from '@actions/core';
import type { Target } from './tenant.js';
import type { WorkerClient } from './worker-client.js';

/** The number of backups deleted, or undefined when the Worker could not prune. */
export async function applyRetention(
  worker: WorkerClient,
  target: Target,
  policy: Record<string, number>,
  failOnApiError: boolean,
): Promise<number | undefined> {
  const rules = Object.entries(policy)
    .map(([name, value]) => `${name.replace('_', '-')} ${value}`)
    .join(', ');
  try {
    const answer = await worker.prune(target.tenant, target.bucket, policy);
    for (const { backup_file } of answer.deleted) core.info(`Retention: deleted ${backup_file}`);
    core.info(`Retention (${rules}): kept ${answer.count_kept}, deleted ${answer.count_deleted}`);
    return answer.count_deleted;
  } catch (error) {
    const message = `Retention (${rules}) was not applied: ${(error as Error).message}. The new backup is stored.`;
    if (failOnApiError) throw new Error(message);
    core.warning(message);
    return undefined;
  }
}
