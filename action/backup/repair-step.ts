// After this run's own record: archives of the tenant that earlier runs stored without a record
// (their Worker call failed) are recorded now, from their objects' metadata (core/r2/repair.ts).
// Bounded, so that one run never spends long on it; a failed repair is a warning, never a
// failed backup.
import * as core from '@actions/core';
import { createS3Client } from '../../core/r2/client.js';
import type { S3Connection } from '../../core/r2/credentials.js';
import { describeRepair, repairCatalogue } from '../../core/r2/repair.js';
import type { WorkerClient } from '../../core/worker-api/client.js';
import type { Target } from './tenant.js';

/** Archives one run looks at, at most. */
export const REPAIRS_PER_RUN = 20;

export async function repairUnrecorded(
  s3: S3Connection,
  worker: WorkerClient,
  target: Target,
): Promise<void> {
  try {
    const outcomes = await repairCatalogue({
      s3: createS3Client({ ...s3, log: core.warning }),
      worker,
      tenant: target.tenant,
      bucket: target.bucket,
      apply: true,
      limit: REPAIRS_PER_RUN,
    });
    for (const outcome of outcomes) {
      const line = `Catalogue repair: ${describeRepair(outcome)}`;
      if (outcome.status === 'refused' || outcome.status === 'failed') core.warning(line);
      else core.info(line);
    }
  } catch (error) {
    core.warning(`Catalogue repair: could not look for unrecorded archives: ${(error as Error).message}`);
  }
}
