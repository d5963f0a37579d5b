// include-metadata: the repository beyond its git history (issues, pull requests, releases...)
// exported through GitHub's API into a directory, carried forward from the previous export the
// Worker vouches for, then archived (tar, zstd) into the claimed `{stamp}.meta.tar.zst`.
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportRepository } from '../../core/github/export.js';
import type { ExportManifest } from '../../core/github/export-format.js';
import {
  loadPreviousExport,
  previousExportRecord,
  type PreviousExport,
} from '../../core/github/previous-export.js';
import type { ArchiveSource } from '../../core/r2/object-source.js';
import { explain } from '../../core/errors.js';
import { formatBytes } from '../../core/format.js';
import type { WorkerClient } from '../../core/worker-api/client.js';
import { BackupInputs } from '../constants.js';
import type { ActionInputs } from '../inputs.js';
import { archiveInto } from './archive-into.js';
import type { Claim } from './claims.js';
import type { Target } from './tenant.js';

export interface StoredExport {
  key: string;
  size: number;
  sha256: string;
  manifest: ExportManifest;
}

export interface MetadataStepOptions {
  inputs: ActionInputs;
  target: Target;
  /** `owner/name` of the repository being backed up. */
  repository: string;
  worker?: WorkerClient;
  /** Where the previous export is read from (S3 keys, else the Worker's download route). */
  source: ArchiveSource;
  claim: Claim;
  partSizeFor: (root: string) => number;
}

// The messages of a failed read of the previous export name the action's own inputs.
const NAMES = { force: 'force', allowUnverified: 'allow-unverified', maxBytes: 'max-bytes' };

/** The previous export to carry unchanged items from; undefined (a full export) when there is
 *  none this run can trust and read. A failure to read it is no reason to fail the backup. */
async function previousExport(
  options: MetadataStepOptions,
  work: string,
): Promise<PreviousExport | undefined> {
  const { worker, target } = options;
  if (!worker) {
    core.info('Metadata export: no Worker to vouch for a previous export; exporting everything');
    return undefined;
  }
  const record = previousExportRecord(
    await worker.listAll(target.tenant, target.bucket),
    target.tenant,
    options.repository,
  );
  if (!record) {
    core.info('Metadata export: no earlier export the Worker vouches for; exporting everything');
    return undefined;
  }
  try {
    const previous = await loadPreviousExport({ ...options, ...target, record, dir: work, names: NAMES });
    core.info(`Metadata export: carrying unchanged items from ${record.backup_file}'s export`);
    return previous;
  } catch (error) {
    core.warning(
      `Metadata export: could not read ${record.backup_file}'s export (${explain(error)}); exporting everything`,
    );
    return undefined;
  }
}

export async function storeMetadataExport(options: MetadataStepOptions): Promise<StoredExport> {
  const { inputs, claim } = options;
  const [owner, repo] = options.repository.split('/') as [string, string];
  const work = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'r2-backup-metadata-'));
  try {
    const previous = await previousExport(options, work);
    const dir = join(work, 'export');
    await mkdir(dir);
    const { githubToken, maxWaitSeconds } = inputs.repositoryExtras;
    // @actions/github's Octokit: GITHUB_API_URL (GitHub Enterprise too) and the runner's proxy.
    // The exporter puts its rate-limit handling on it for the run.
    const api = getOctokit(githubToken!);
    const manifest = await exportRepository({
      api,
      owner,
      repo,
      dir,
      previous,
      log: core.info,
      maxWaitSeconds,
    });
    if (manifest.partial) {
      core.warning(
        `Metadata export is partial: ${manifest.partial_reason}. It is stored with what was fetched; the next run continues (${BackupInputs.MetadataMaxWaitSeconds} sets how long to wait).`,
      );
    }
    core.info(`Archiving the metadata export to ${claim.key}`);
    const stored = await archiveInto(
      { root: dir, excludes: [], compression: 'zstd', recipients: inputs.encryptionRecipients },
      claim.pending,
      options.partSizeFor(dir),
    );
    core.info(
      `Stored ${claim.key}: ${formatBytes(stored.size)}; ${describeCounts(manifest)}; ${manifest.requests} API requests; sha256 ${stored.sha256}`,
    );
    return { key: claim.key, size: stored.size, sha256: stored.sha256, manifest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export const describeCounts = (manifest: ExportManifest): string =>
  Object.entries(manifest.counts)
    .map(([kind, count]) => `${count} ${kind.replace('_', ' ')}`)
    .join(', ');
