// include-lfs: the LFS objects of every ref, each stored once per tenant at `lfs/{tenant}/{oid}`
// (shared by the backups that list it), then this backup's list of them into the claimed
// `{stamp}.lfs.json`.
import * as core from '@actions/core';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { ValidationError } from '../../common/validate.js';
import { formatBytes } from '../../core/format.js';
import { checkHistory } from '../../core/git/history.js';
import { collectLfsObjects, gitLfsInstalled, lfsList, storeLfsObjects } from '../../core/git/lfs.js';
import { createS3Client } from '../../core/r2/client.js';
import { storedSizesOverS3 } from '../../core/r2/object-size.js';
import { lfsPrefix } from '../../common/naming.js';
import { S3ContentUploader } from '../../core/upload/s3-uploader.js';
import { MIN_PART_SIZE } from '../../core/upload/uploader.js';
import { WorkerUploader } from '../../core/upload/worker-uploader.js';
import type { WorkerClient } from '../../core/worker-api/client.js';
import { BackupInputs } from '../constants.js';
import type { ActionInputs } from '../inputs.js';
import type { Claim } from './claims.js';
import type { Target } from './tenant.js';

const LFS_CONTENT_TYPE = 'application/octet-stream';

export interface StoredLfs {
  key: string;
  size: number;
  sha256: string;
  /** Objects listed, their bytes, and how many this run uploaded. */
  count: number;
  bytes: number;
  uploaded: number;
}

/** Before anything is uploaded: a repository at path, and git-lfs to fetch its objects. */
export async function checkLfs(inputs: ActionInputs): Promise<void> {
  await checkHistory(inputs.path, 'record').catch((error: unknown) => {
    throw error instanceof ValidationError
      ? new ValidationError(BackupInputs.IncludeLfs, error.rule)
      : (error as Error);
  });
  if (!(await gitLfsInstalled())) {
    throw new ValidationError(
      BackupInputs.IncludeLfs,
      'needs git-lfs, which is not installed on this runner: install it before this step (`sudo apt-get install git-lfs`); GitHub-hosted runners have it',
    );
  }
}

export async function storeLfs(
  inputs: ActionInputs,
  target: Target,
  worker: WorkerClient | undefined,
  claim: Claim,
): Promise<StoredLfs> {
  const objects = await collectLfsObjects(inputs.path, core.info);
  const { destination } = inputs;
  const s3 = destination.kind === 's3' ? createS3Client({ ...destination, log: core.warning }) : undefined;
  const stored = await storeLfsObjects({
    objects,
    tenant: target.tenant,
    // Over S3 without a claim, sizes checked first (core/git/lfs.ts); through the Worker, which
    // never replaces an object, a taken key is skipped.
    uploader:
      destination.kind === 's3'
        ? new S3ContentUploader(s3!, target.bucket, destination.endpoint, LFS_CONTENT_TYPE, core.warning)
        : new WorkerUploader(worker!, target.bucket, core.warning),
    existingSize: s3 && (await storedSizesOverS3(s3, target.bucket, lfsPrefix(target.tenant))),
    log: core.info,
  });
  const list = lfsList(objects);
  const digest = { sha256: createHash('sha256').update(list).digest('hex'), size: list.length };
  await claim.pending.send(Readable.from([list]), MIN_PART_SIZE, () => digest);
  const bytes = objects.reduce((sum, object) => sum + object.size, 0);
  core.info(
    `Stored ${claim.key}: ${objects.length} LFS objects (${formatBytes(bytes)}), ${stored.stored} uploaded by this run`,
  );
  return { key: claim.key, ...digest, count: objects.length, bytes, uploaded: stored.stored };
}
