// The file mirror as a step of the backup: once the archive is stored, keep
// repos/{tenant}/{branch}/ equal to the tree, uploading only what changed (docs/mirror.md).
import * as core from '@actions/core';
import type { ActionInputs } from '../inputs.js';
import { BackupInputs } from '../constants.js';
import { syncMirror } from '../../core/mirror/sync.js';
import { createS3Client } from '../../core/r2/client.js';
import { formatBytes } from '../../core/format.js';
import type { ArchivedTree } from './excluded.js';
import type { Target } from './tenant.js';

const PROGRESS_EVERY_MS = 10_000;

export interface MirrorReport {
  prefix: string;
  uploaded: number;
  deleted: number;
  unchanged: number;
  /** Stored files gone from the tree, kept because of `sync-keep-deleted`. */
  kept: number;
  requests: number;
  durationMs: number;
}

export async function mirrorFiles(
  inputs: ActionInputs,
  tree: ArchivedTree,
  target: Target,
  branch: string,
): Promise<MirrorReport> {
  if (inputs.destination.kind !== 's3') throw new Error(`${BackupInputs.SyncFiles} needs S3 keys`); // checked by readInputs
  const started = Date.now();
  let lastLog = started;
  const result = await syncMirror({
    s3: createS3Client(inputs.destination),
    bucket: target.bucket,
    tenant: target.tenant,
    branch,
    root: tree.root,
    excludes: tree.excludes,
    tracked: tree.tracked,
    deleteRemoved: !inputs.syncKeepDeleted,
    onProgress: (p) => {
      if (Date.now() - lastLog < PROGRESS_EVERY_MS) return;
      lastLog = Date.now();
      core.info(`Mirror: ${p.uploaded}/${p.toUpload} uploaded, ${p.deleted}/${p.toDelete} deleted`);
    },
  });
  const report: MirrorReport = {
    prefix: result.prefix,
    uploaded: result.uploaded,
    deleted: result.deleted,
    unchanged: result.unchanged,
    kept: result.kept,
    requests: result.requests.classA + result.requests.classB,
    durationMs: Date.now() - started,
  };
  if (result.fallbackReason) core.info(`Mirror: compared with a full listing (${result.fallbackReason})`);
  if (result.skipped.length > 0) {
    core.info(`Mirror: ${result.skipped.length} symbolic links or special files not mirrored`);
  }
  core.info(
    `Mirrored to ${report.prefix} in ${target.bucket}: ${report.uploaded} uploaded (${formatBytes(result.bytesUploaded)}), ` +
      `${report.deleted} deleted, ${report.unchanged} unchanged${report.kept ? `, ${report.kept} kept` : ''}; ` +
      `${report.requests} requests (${result.requests.classA} class A, ${result.requests.classB} class B)`,
  );
  return report;
}
