// The keep-* inputs: after a recorded backup, ask the Worker to apply the retention policy to
// the tenant. The Worker owns deletion: it never deletes the newest backup, this run's backup
// or one recorded while this run went on (overlapping runs), nor what MIN_RETENTION_DAYS locks.
// Deleting needs a credential with the maintain role; with a backup-role credential (the secure
// default) nothing is deleted, a warning says why, and the Worker's own policy applies.
import * as core from '@actions/core';
import type { Target } from './tenant.js';
import { WorkerApiError, type WorkerClient } from '../../core/worker-api/client.js';

/** The run asking: its backup is kept, and so is every backup recorded since it started. */
export interface RetentionRun {
  backupFile: string;
  /** Date.now() when the run started (only its distance to now is sent: no clock is compared). */
  startedMs: number;
}

/** The number of backups deleted, or undefined when the Worker did not prune. */
export async function applyRetention(
  worker: WorkerClient,
  target: Target,
  policy: Record<string, number>,
  failOnApiError: boolean,
  run: RetentionRun,
): Promise<number | undefined> {
  const rules = Object.entries(policy)
    .map(([name, value]) => `${name.replace('_', '-')} ${value}`)
    .join(', ');
  try {
    const answer = await worker.prune(target.tenant, target.bucket, policy, false, {
      backup_file: run.backupFile,
      started_ms_ago: Math.max(0, Date.now() - run.startedMs),
    });
    for (const { backup_file } of answer.deleted) core.info(`Retention: deleted ${backup_file}`);
    for (const { backup_file, reasons } of answer.kept) {
      const held = reasons.filter((r) => r === 'recorded during this run' || r.startsWith('locked'));
      if (held.length > 0) core.info(`Retention: kept ${backup_file} (${held.join(', ')})`);
    }
    core.info(`Retention (${rules}): kept ${answer.count_kept}, deleted ${answer.count_deleted}`);
    return answer.count_deleted;
  } catch (error) {
    if (error instanceof WorkerApiError && error.status === 403 && error.reason?.includes('maintain role')) {
      // Not a failure: append-only credentials are the secure setup.
      core.warning(
        `Retention (${rules}) was not applied: the Worker refused to delete with this credential ` +
          `(${error.reason}). Nothing was deleted; the new backup is stored. The Worker's own ` +
          'retention policy (RETENTION_POLICIES) applies to this tenant instead; remove the keep-* ' +
          'inputs, or give this step a credential with the maintain role.',
      );
      return undefined;
    }
    const message = `Retention (${rules}) was not applied: ${(error as Error).message}. The new backup is stored.`;
    if (failOnApiError) throw new Error(message);
    core.warning(message);
    return undefined;
  }
}
