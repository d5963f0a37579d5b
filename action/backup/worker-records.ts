// What the Worker keeps of a run: the backup's metadata record and a notification of how the
// run ended. A Worker that cannot be reached never costs the stored archive.
import * as core from '@actions/core';
import type { BackupMetadataInput } from '../../common/metadata.js';
import { checkBranch, checkCommit, checkRepo } from '../../common/validate.js';
import type { GitHubContext } from '../github-context.js';
import { withRetries } from '../../core/retry.js';
import { BackupInputs } from '../constants.js';
import type { Target } from './tenant.js';
import { causeChain, withFix } from '../../core/errors.js';
import {
  WorkerApiError,
  WorkerUnreachableError,
  workerRetries,
  type WorkerClient,
} from '../../core/worker-api/client.js';

/** Repo, branch and commit go into every record; checked before anything is uploaded. */
export function checkRecordFields(context: GitHubContext): void {
  checkRepo(context.repository, 'repository (GITHUB_REPOSITORY)');
  checkBranch(context.branch, 'branch (GITHUB_REF)');
  checkCommit(context.commit, 'commit (GITHUB_SHA)');
}

/** Records the backup; an unreachable or refusing Worker never removes the archive. */
export async function recordBackup(
  worker: WorkerClient,
  metadata: BackupMetadataInput,
  failOnApiError: boolean,
): Promise<boolean> {
  try {
    await withRetries(
      (attempt) =>
        worker.storeMetadata(metadata).catch((error: unknown) => {
          // A retry after an answer that got lost: the first attempt stored it.
          if (attempt > 1 && error instanceof WorkerApiError && error.status === 409) return;
          throw error;
        }),
      workerRetries(`record ${metadata.key}`, core.warning),
    );
    await withRetries(
      () =>
        worker.notify({
          tenant: metadata.tenant,
          bucket: metadata.bucket,
          repo: metadata.repo,
          branch: metadata.branch,
          commit: metadata.commit,
          status: 'success',
          backup_file: metadata.backup_file,
          message: `Backup ${metadata.key}: ${metadata.size} bytes, ${metadata.file_count} files, sha256 ${metadata.sha256}`,
          run_url: metadata.run_url,
        }),
      workerRetries(`notify ${metadata.key}`, core.warning),
    );
    core.info(`Recorded ${metadata.backup_file} with the Worker`);
    return true;
  } catch (error) {
    if (!(error instanceof WorkerApiError || error instanceof WorkerUnreachableError)) throw error;
    const message = withFix(
      `The archive is stored at ${metadata.key} in ${metadata.bucket}, but the Worker did not record it: ${error.message}. Check ${BackupInputs.ApiUrl} and ${BackupInputs.ApiToken}.`,
      error,
    );
    if (failOnApiError)
      throw new Error(`${message} (${BackupInputs.FailOnApiError} is true)`, { cause: error });
    core.warning(message);
    return false;
  }
}

/** The Worker refused this credential or bucket, or was not reached: a notification to it would
 *  fail the same way, and only repeat the failure as a second warning. */
const workerRefused = (error: unknown): boolean =>
  [...causeChain(error)].some(
    (e) =>
      e instanceof WorkerUnreachableError ||
      (e instanceof WorkerApiError && [401, 403, 404].includes(e.status)),
  );

export async function notifyFailure(
  worker: WorkerClient | undefined,
  target: Target | undefined,
  context: GitHubContext | undefined,
  message: string,
  status: 'failure' | 'cancelled' = 'failure',
  /** What failed the run, when known. */
  cause?: unknown,
): Promise<void> {
  if (!worker || !target || !context) return;
  if (workerRefused(cause)) {
    core.info(
      `No ${status} notification recorded: the Worker already refused or could not be reached (above)`,
    );
    return;
  }
  try {
    checkRecordFields(context);
    await worker.notify({
      tenant: target.tenant,
      bucket: target.bucket,
      repo: context.repository,
      branch: context.branch,
      commit: context.commit,
      status,
      // The Worker takes no control characters other than newline.
      // eslint-disable-next-line no-control-regex
      message: message.slice(0, 2000).replace(/[\x00-\x09\x0b-\x1f\x7f]/g, ' '),
      run_url: context.runUrl,
    });
    core.info(`Recorded a ${status} notification with the Worker`);
  } catch (error) {
    core.warning(`Could not record a ${status} notification: ${(error as Error).message}`);
  }
}
