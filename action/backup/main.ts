// The backup step: resolve where the backup goes, stream the tree into R2 under a name no
// other archive has, record it with the Worker, report it. Each stage lives in its own module.
import * as core from '@actions/core';
import type { BackupMetadataInput } from '../../common/metadata.js';
import { archiveKey, backupFileName, stampOf } from '../../common/naming.js';
import { ValidationError, checkBranch, type CompanionKind } from '../../common/validate.js';
import packageJson from '../../package.json' with { type: 'json' };
import type { ArchiveResult } from '../../core/archive/stream.js';
import { readGitHubContext, type GitHubContext } from '../github-context.js';
import { readInputs, type ActionInputs } from '../inputs.js';
import { BackupInputs, BackupOutputs } from '../constants.js';
import { createS3Client } from '../../core/r2/client.js';
import { checkHistory } from '../../core/git/history.js';
import { accountOfExcluded, archivedTree, estimateExcludes, type ArchivedTree } from './excluded.js';
import { mirrorFiles } from './mirror-step.js';
import { oidcTokenProvider } from './oidc-token.js';
import { applyRetention } from './retention-step.js';
import { formatBytes, formatDuration, formatRate } from '../../core/format.js';
import { setMirrorOutputs, setOutputs, writeSummary, type BackupReport } from './summary.js';
import { resolveTarget, type Target } from './tenant.js';
import { estimateTreeBytes, fileSystemBound } from '../../core/tree/size.js';
import { S3Uploader, explainS3Error } from '../../core/upload/s3-uploader.js';
import { WorkerUploader } from '../../core/upload/worker-uploader.js';
import {
  KeyExistsError,
  MIN_PART_SIZE,
  choosePartSize,
  fitsSmallestParts,
  type ArchiveUploader,
} from '../../core/upload/uploader.js';
import { WorkerApiError, WorkerClient } from '../../core/worker-api/client.js';
import { checkRecordFields, notifyFailure, recordBackup } from './worker-records.js';
import { UploadCleanedUpError, endSentence, whatFailed, withFix } from '../../core/errors.js';
import { recipientFingerprint } from '../../core/crypto/recipients.js';
import { archiveMetadata, type ArchiveFacts } from '../../common/archive-metadata.js';
import { repairUnrecorded } from './repair-step.js';
import { archiveInto } from './archive-into.js';
import { checkLfs } from './lfs-step.js';
import { active, releaseClaims, claimCompanions, type Claims } from './claims.js';
import { companionFields, storeCompanions, type StoredCompanions } from './companions-step.js';
import type { ArchiveSource } from '../../core/r2/object-source.js';

const CONTENT_TYPES = { gzip: 'application/gzip', zstd: 'application/zstd', none: 'application/x-tar' };
const BUNDLE_CONTENT_TYPE = 'application/x-git-bundle';
/** An age file says nothing of what it holds. */
const ENCRYPTED_CONTENT_TYPE = 'application/octet-stream';
/** Runs of the same second beyond this many are surely a loop gone wrong. */
const MAX_RUN_NUMBER = 1000;

/** The archive's key once it is stored: a later cancellation must not say it was aborted. */
let storedKey: string | undefined;

interface Stored {
  key: string;
  backupFile: string;
  size: number;
  sha256: string;
  archive: ArchiveResult;
  /** The companions asked for (git bundle, metadata export, wiki bundle, LFS list). */
  claims: Claims;
}

/** `{stamp}.ext`, else `{stamp}-2.ext`, ...: the first name this run can claim, with each
 *  companion's name beside it (`{stamp}.bundle`, ...). */
async function storeArchive(
  inputs: ActionInputs,
  tree: ArchivedTree,
  target: Target,
  uploader: ArchiveUploader,
  stamp: string,
  partSize: number,
  companionUploaders: Partial<Record<CompanionKind, ArchiveUploader>>,
): Promise<Stored> {
  for (let n = 1; n <= MAX_RUN_NUMBER; n++) {
    const backupFile = backupFileName(
      stamp,
      inputs.compression,
      n,
      inputs.encryptionRecipients !== undefined,
    );
    const key = archiveKey(target.tenant, backupFile);
    const pending = await uploader.begin(key);
    if (!pending) continue;
    active.add(pending);
    const claims = await claimCompanions(target.tenant, backupFile, companionUploaders);
    if (!claims) {
      // A run of the same second with another compression has these companions' names.
      await pending.abort();
      active.delete(pending);
      continue;
    }
    core.info(
      `Archiving ${inputs.path} to ${key} on ${uploader.description} (parts of ${formatBytes(partSize)})`,
    );
    try {
      const directory = { ...tree, compression: inputs.compression, recipients: inputs.encryptionRecipients };
      const stored = { key, backupFile, claims, ...(await archiveInto(directory, pending, partSize)) };
      active.delete(pending);
      return stored;
    } catch (error) {
      const cleanup = await releaseClaims([{ key, pending }, ...Object.values(claims)]);
      if (error instanceof KeyExistsError) {
        core.info(`${key} was taken by another run meanwhile; starting again under the next name`);
        continue;
      }
      throw new UploadCleanedUpError(error, `Cleaned up: ${cleanup.join('; ')}.`);
    }
  }
  throw new Error(`No free archive name for stamp ${stamp} after ${MAX_RUN_NUMBER} tries`);
}

/** What is known of the archive before it is uploaded, for its object's metadata. */
const factsAtStart = (context: GitHubContext, inputs: ActionInputs, created: Date): ArchiveFacts => ({
  repo: context.repository,
  branch: context.branch,
  commit: context.commit,
  compression: inputs.compression,
  created_at: created.toISOString(),
  event: context.eventName,
  actor: context.actor,
  run_id: context.runId,
  run_url: context.runUrl,
  action_version: packageJson.version,
  recipients: inputs.encryptionRecipients?.map(recipientFingerprint),
});

interface HistoryCheck {
  shallow: boolean;
  partSize: number;
}

/** Before any upload: the history can be bundled, and parts fit the size of the .git directory. */
async function checkGitHistory(inputs: ActionInputs, uploader: ArchiveUploader): Promise<HistoryCheck> {
  const { shallow, gitDir } = await checkHistory(inputs.path, inputs.shallowHistory);
  if (shallow)
    core.warning('The checkout is shallow: the git bundle is stored, marked shallow (history incomplete)');
  return { shallow, partSize: partSizeForTree(gitDir, [], uploader) };
}

/** When the whole file system fits the smallest parts, so does the tree: no need to walk it. */
function partSizeForTree(root: string, excludes: string[], uploader: ArchiveUploader): number {
  const bound = fileSystemBound(root);
  if (bound !== undefined && fitsSmallestParts(bound)) return MIN_PART_SIZE;
  return choosePartSize(estimateTreeBytes(root, excludes), uploader.maxPartSize);
}

/** Where a companion goes: the archive's destination, each with its content type. */
function companionUploadersFor(
  inputs: ActionInputs,
  target: Target,
  worker: WorkerClient | undefined,
  history: boolean,
): Partial<Record<CompanionKind, ArchiveUploader>> {
  const encrypted = inputs.encryptionRecipients !== undefined;
  const uploaderOf = (contentType: string) =>
    createUploader(inputs, target, worker, encrypted ? ENCRYPTED_CONTENT_TYPE : contentType);
  const { metadata, wiki, lfs } = inputs.repositoryExtras;
  return {
    ...(history && { bundle: uploaderOf(BUNDLE_CONTENT_TYPE) }),
    ...(metadata && { meta: uploaderOf(CONTENT_TYPES.zstd) }),
    ...(wiki && { wiki: uploaderOf(BUNDLE_CONTENT_TYPE) }),
    ...(lfs && { lfs: uploaderOf('application/json') }),
  };
}

/** Where earlier objects are read from: R2 over S3 with keys, else the Worker's download route. */
function archiveSourceOf(inputs: ActionInputs, worker: WorkerClient | undefined): ArchiveSource {
  if (inputs.destination.kind === 's3') {
    return { kind: 's3', s3: createS3Client({ ...inputs.destination, log: core.warning }) };
  }
  return { kind: 'worker', worker: worker! };
}

function createUploader(
  inputs: ActionInputs,
  target: Target,
  worker: WorkerClient | undefined,
  contentType: string,
  objectMetadata?: Record<string, string>,
): ArchiveUploader {
  if (inputs.destination.kind === 'worker') {
    return new WorkerUploader(worker!, target.bucket, core.warning, objectMetadata);
  }
  return new S3Uploader(
    createS3Client({ ...inputs.destination, log: core.warning }),
    target.bucket,
    inputs.destination.endpoint,
    contentType,
    core.warning,
    undefined,
    objectMetadata,
  );
}

/** The part-size-mib input, else a size from the tree's size that fits R2's part limit. */
function partSizeFor(inputs: ActionInputs, tree: ArchivedTree, uploader: ArchiveUploader): number {
  const partSize = inputs.partSize ?? partSizeForTree(tree.root, estimateExcludes(tree), uploader);
  if (partSize > uploader.maxPartSize) {
    throw new ValidationError(
      BackupInputs.PartSizeMib,
      `must be at most ${uploader.maxPartSize / 1024 / 1024} MiB for ${uploader.description}`,
    );
  }
  return partSize;
}

function metadataOf(
  target: Target,
  context: GitHubContext,
  inputs: ActionInputs,
  stored: Stored,
  companions: StoredCompanions,
  created: Date,
  durationMs: number,
): BackupMetadataInput {
  return {
    tenant: target.tenant,
    bucket: target.bucket,
    repo: context.repository,
    branch: context.branch,
    commit: context.commit,
    backup_file: stored.backupFile,
    action: 'upload',
    key: stored.key,
    size: stored.size,
    sha256: stored.sha256,
    compression: inputs.compression,
    file_count: stored.archive.fileCount,
    excludes: inputs.excludes,
    created_at: created.toISOString(),
    event: context.eventName,
    actor: context.actor,
    run_id: context.runId,
    run_url: context.runUrl,
    duration_ms: durationMs,
    action_version: packageJson.version,
    ...companionFields(companions),
    ...(inputs.encryptionRecipients && {
      encrypted: true,
      recipients: inputs.encryptionRecipients.map(recipientFingerprint),
    }),
  };
}

/** The step's failure message: what failed, the Worker's reason, what was cleaned up, then the
 *  README entry that fixes it. */
const describe = (error: unknown, inputs: ActionInputs | undefined, target: Target | undefined): string =>
  withFix(whatWentWrong(error, inputs, target), error);

function whatWentWrong(error: unknown, inputs: ActionInputs | undefined, target: Target | undefined): string {
  if (error instanceof UploadCleanedUpError) {
    return `${endSentence(whatWentWrong(error.cause, inputs, target))} ${error.cleanup}`;
  }
  if (error instanceof ValidationError) {
    return `${error.message}. Nothing was uploaded.`;
  }
  if (inputs?.destination.kind === 's3' && target && (error as { $metadata?: unknown })?.$metadata) {
    return explainS3Error(error, target.bucket, inputs.destination.endpoint);
  }
  if (error instanceof WorkerApiError && error.status === 401) {
    const credential =
      inputs?.api?.auth.kind === 'oidc'
        ? 'the ID token (check OIDC_AUDIENCE and OIDC_POLICY)'
        : BackupInputs.ApiToken;
    return `${error.message}: the Worker refused ${credential}.`;
  }
  if (error instanceof WorkerApiError && error.status === 404) {
    return `${error.message}: is bucket ${error.bucket ?? target?.bucket} bound in the Worker's wrangler config?`;
  }
  return whatFailed(error);
}

export async function run(): Promise<void> {
  const started = Date.now();
  const created = new Date(started);
  let inputs: ActionInputs | undefined;
  let target: Target | undefined;
  let context: GitHubContext | undefined;
  let worker: WorkerClient | undefined;
  // The runner cancels a job with SIGINT, then SIGTERM, then a kill: abort the upload in that
  // window, so that no parts and no placeholder remain.
  let cancelling: Promise<void> | undefined;
  const cancel = (signal: NodeJS.Signals): void => {
    cancelling ??= (async () => {
      const message = storedKey
        ? `Cancelled (${signal}) after the archive was stored at ${storedKey}, which stays (a file mirror cut short is completed by the next run).`
        : `Cancelled (${signal}) before the backup was stored; the upload was aborted.`;
      await Promise.all([...active].map((pending) => pending.abort().catch(() => undefined)));
      await notifyFailure(worker, target, context, message, 'cancelled');
      core.setFailed(message);
      process.exit(1);
    })();
  };
  process.once('SIGINT', cancel).once('SIGTERM', cancel);
  try {
    inputs = readInputs();
    context = readGitHubContext();
    target = resolveTarget(inputs, context);
    core.info(
      `Tenant ${target.tenant} (from ${target.tenantSource}), bucket ${target.bucket} (from ${target.bucketSource})`,
    );
    if (inputs.api) {
      const { auth } = inputs.api;
      const token = auth.kind === 'token' ? auth.token : oidcTokenProvider(auth.audience);
      // The first ID token now: a job without id-token permission stops before any upload.
      if (typeof token !== 'string') await token();
      worker = new WorkerClient(inputs.api.url, token);
      checkRecordFields(context);
    } else {
      core.warning('api-url and api-token are not set: the archive is uploaded but no metadata is recorded');
    }
    // The mirror's prefix is named after the branch: a bad one must stop the run before upload.
    if (inputs.syncFiles) checkBranch(context.branch, 'branch');
    const uploader = createUploader(
      inputs,
      target,
      worker,
      inputs.encryptionRecipients ? ENCRYPTED_CONTENT_TYPE : CONTENT_TYPES[inputs.compression],
      archiveMetadata(factsAtStart(context, inputs, created)),
    );
    const tree = await archivedTree(inputs);
    const partSize = partSizeFor(inputs, tree, uploader);
    const history = inputs.includeGitHistory ? await checkGitHistory(inputs, uploader) : undefined;
    if (inputs.repositoryExtras.lfs) await checkLfs(inputs);
    const companionUploaders = companionUploadersFor(inputs, target, worker, history !== undefined);
    if (inputs.encryptionRecipients) {
      const fingerprints = inputs.encryptionRecipients.map(recipientFingerprint).join(', ');
      core.info(
        `Encrypting with age for ${inputs.encryptionRecipients.length} recipient(s) (fingerprints ${fingerprints}): any one of their identities decrypts`,
      );
    }
    const stored = await storeArchive(
      inputs,
      tree,
      target,
      uploader,
      stampOf(created),
      partSize,
      companionUploaders,
    );
    storedKey = stored.key;
    const durationMs = Date.now() - started;
    core.info(
      `Stored ${stored.key}: ${stored.archive.fileCount} files, ${formatBytes(stored.archive.bytesIn)} read, ` +
        `${formatBytes(stored.size)} stored in ${formatDuration(durationMs)} (${formatRate(stored.archive.bytesIn, durationMs)}); sha256 ${stored.sha256}`,
    );
    const excluded = accountOfExcluded(tree, stored.archive);
    for (const line of excluded.lines) core.info(line);
    // What fails after the archive is stored fails the step, but leaves the archive, its record
    // and its outputs.
    const { stored: companions, failures: later } = await storeCompanions(stored.claims, {
      inputs,
      target,
      repository: context.repository,
      worker,
      source: archiveSourceOf(inputs, worker),
      history,
      partSizeFor: (root) => partSizeForTree(root, [], uploader),
      describe: (error) => describe(error, inputs, target),
    });
    const report: BackupReport = {
      tenant: target.tenant,
      bucket: target.bucket,
      key: stored.key,
      backupFile: stored.backupFile,
      size: stored.size,
      sha256: stored.sha256,
      fileCount: stored.archive.fileCount,
      bytesIn: stored.archive.bytesIn,
      durationMs,
      compression: inputs.compression,
      destination: uploader.description,
      recorded: false,
      bundle: companions.bundle,
      meta: companions.meta,
      wiki: companions.wiki,
      lfs: companions.lfs,
      excluded: excluded.summary,
    };
    setOutputs(report);
    if (worker) {
      const metadata = metadataOf(target, context, inputs, stored, companions, created, durationMs);
      report.recorded = await recordBackup(worker, metadata, inputs.failOnApiError);
      // Only with the new backup on record: the Worker keeps the newest record, which must be it.
      if (report.recorded && inputs.retention) {
        report.pruned = await applyRetention(worker, target, inputs.retention, inputs.failOnApiError, {
          backupFile: stored.backupFile,
          startedMs: started,
        });
        if (report.pruned !== undefined) core.setOutput(BackupOutputs.Pruned, String(report.pruned));
      }
      // With the Worker reachable again: earlier archives whose record failed are recorded now.
      if (report.recorded && inputs.destination.kind === 's3') {
        await repairUnrecorded(inputs.destination, worker, target);
      }
    }
    if (inputs.syncFiles) {
      try {
        report.mirror = await mirrorFiles(inputs, tree, target, context.branch);
        setMirrorOutputs(report.mirror);
      } catch (error) {
        later.push(`the file mirror failed: ${describe(error, inputs, target)}`);
      }
    }
    await writeSummary(report);
    if (later.length > 0) throw new Error(`The archive ${stored.key} is stored, but ${later.join('; and ')}`);
  } catch (error) {
    // The aborted upload's own error is not the news: the cancellation reports and exits.
    if (cancelling) return cancelling;
    const message = describe(error, inputs, target);
    await notifyFailure(worker, target, context, message, 'failure', error);
    core.setFailed(message);
  }
}
