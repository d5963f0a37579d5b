// The restore sub-action's entry point (restore/action.yml, dist/restore/index.js): the CLI's
// restore as a step, with the backup action's credentials and outputs for what it restored.
import * as core from '@actions/core';
import { checkBucket, checkByteCount, checkTenant, ValidationError } from '../../common/validate.js';
import { DEFAULT_BUCKET_SOURCE, checkedDefaultBucket } from '../../common/naming.js';
import type { ArchiveSource } from '../../core/r2/object-source.js';
import type { BackupSelector } from '../../core/restore/selection.js';
import { newestArchiveOf } from '../../core/restore/unrecorded.js';
import type { RestoreOptionNames } from '../../core/restore/option-names.js';
import { createS3Client } from '../../core/r2/client.js';
import { RestoreInputs, RestoreOutputs } from '../constants.js';
import { restoreGitHistory } from './history-step.js';
import { restoreMetadataExport } from './metadata-step.js';
import { SECRET_INPUTS, parseBoolean, readRestoreCredentials } from '../inputs.js';
import { describeSymlinks } from '../../core/restore/archive.js';
import { restoreBackup } from '../../core/restore/backup.js';
import { listRecordsOverS3 } from '../../core/r2/catalogue.js';
import { formatBytes } from '../../core/format.js';
import { WorkerClient } from '../../core/worker-api/client.js';
import { explain, withFix } from '../../core/errors.js';
import { identitiesFromSetting } from '../../core/crypto/identities.js';
import { secretKeysIn } from '../../core/crypto/recipients.js';

/** The sub-action's own inputs, as its messages name them (the CLI says `--force`). */
const OPTION_NAMES: RestoreOptionNames = {
  force: `${RestoreInputs.Force}: true`,
  allowUnverified: `${RestoreInputs.AllowUnverified}: true`,
  maxBytes: RestoreInputs.MaxBytes,
  identity: `the ${RestoreInputs.Identity} input`,
};

/** The `identity` input (the identity itself, or its file's path): masked whole and key by
 *  key before anything else can print it. */
function readIdentity(): string[] | undefined {
  const value = core.getInput(RestoreInputs.Identity);
  if (!value) return undefined;
  core.setSecret(value);
  for (const key of secretKeysIn(value)) core.setSecret(key);
  return identitiesFromSetting(value, RestoreInputs.Identity);
}

function selectorOf(): BackupSelector {
  const backup = core.getInput(RestoreInputs.Backup);
  const commit = core.getInput(RestoreInputs.Commit);
  if (backup && commit)
    throw new ValidationError(
      RestoreInputs.Commit,
      `give ${RestoreInputs.Backup} or ${RestoreInputs.Commit}, not both`,
    );
  if (backup) return { backup };
  if (commit) return { commit };
  return { latest: true };
}

/** What the step restores instead of the files, if anything: one of `history`, `wiki` and
 *  `metadata` at most, as each replaces the files with something else at the target. */
type Companion = typeof RestoreInputs.History | typeof RestoreInputs.Wiki | typeof RestoreInputs.Metadata;
function companionOf(): Companion | undefined {
  const given = [RestoreInputs.History, RestoreInputs.Wiki, RestoreInputs.Metadata].filter((name) =>
    parseBoolean(name),
  );
  if (given.length > 1)
    throw new ValidationError(
      given[1]!,
      `set with ${given[0]}: true, but ${RestoreInputs.History}, ${RestoreInputs.Wiki} and ` +
        `${RestoreInputs.Metadata} restore different things into the target: set one of them to true`,
    );
  return given[0];
}

/** Inputs that bound the archive's extraction: set with `history: true` or `wiki: true`, they
 *  would do nothing, so they are refused rather than silently ignored. (`metadata: true`
 *  extracts the export as an archive: `max-bytes` bounds it.) */
function refuseArchiveOnlyInputs(companion: Companion): void {
  for (const name of [RestoreInputs.MaxBytes]) {
    if (core.getInput(name) && core.getInput(name).toLowerCase() !== 'false')
      throw new ValidationError(name, `applies to the archive, not to ${companion}: true`);
  }
}

const maxBytesOf = (): number | undefined =>
  core.getInput(RestoreInputs.MaxBytes)
    ? checkByteCount(core.getInput(RestoreInputs.MaxBytes), RestoreInputs.MaxBytes)
    : undefined;

async function restore(): Promise<void> {
  for (const name of SECRET_INPUTS) {
    const value = core.getInput(name);
    if (value) core.setSecret(value);
  }
  const companion = companionOf();
  if (companion === RestoreInputs.History || companion === RestoreInputs.Wiki)
    refuseArchiveOnlyInputs(companion);
  const identities = readIdentity();
  const credentials = readRestoreCredentials();
  const tenant = checkTenant(
    core.getInput(RestoreInputs.Tenant) || process.env.GITHUB_REPOSITORY?.split('/')[1],
    RestoreInputs.Tenant,
  );
  const bucket = core.getInput(RestoreInputs.Bucket)
    ? checkBucket(core.getInput(RestoreInputs.Bucket), RestoreInputs.Bucket)
    : checkedDefaultBucket(
        tenant,
        `${RestoreInputs.Bucket} (from ${DEFAULT_BUCKET_SOURCE})`,
        `set the ${RestoreInputs.Bucket} input, or the ${RestoreInputs.Tenant} input to a name that makes a valid one`,
      );
  const worker =
    credentials.worker && new WorkerClient(credentials.worker.url, credentials.worker.auth.token);
  const s3 = credentials.s3 && createS3Client(credentials.s3);
  if (!worker && !s3) {
    throw new ValidationError(
      RestoreInputs.ApiUrl,
      'or the R2 S3 keys are needed: the Worker, or R2 itself, holds the records',
    );
  }
  // Records from the Worker when given (it checks who may read them), else over S3.
  const listRecords = worker
    ? () => worker.listAll(tenant, bucket)
    : () => listRecordsOverS3(s3!, bucket, tenant);
  const source: ArchiveSource = s3 ? { kind: 's3', s3 } : { kind: 'worker', worker: worker! };
  const target = core.getInput(RestoreInputs.Target, { required: true });
  const selector = selectorOf();
  // The latest must not pass over a newer archive that has no record.
  if ('latest' in selector) selector.newestArchive = newestArchiveOf(tenant, bucket, { worker, s3 });
  const force = parseBoolean(RestoreInputs.Force);
  const allowUnverified = parseBoolean(RestoreInputs.AllowUnverified);
  const chosen = { listRecords, source, tenant, bucket, selector, target, force, allowUnverified };
  if (companion === RestoreInputs.Metadata) {
    return restoreMetadataExport({
      ...chosen,
      maxBytes: maxBytesOf(),
      names: OPTION_NAMES,
      identities,
    });
  }
  if (companion) {
    return restoreGitHistory({
      ...chosen,
      wiki: companion === RestoreInputs.Wiki,
      names: OPTION_NAMES,
      identities,
    });
  }
  const restored = await restoreBackup({
    ...chosen,
    maxBytes: maxBytesOf(),
    names: OPTION_NAMES,
    identities,
    log: (line) => core.info(line),
  });
  core.info(
    `Restored ${restored.record.backup_file}: ${restored.entries} entries, sha256 ${restored.sha256} ${restored.compared ? 'verified' : 'computed (not compared)'}`,
  );
  for (const line of describeSymlinks(restored.symlinks)) core.info(line);
  core.setOutput(RestoreOutputs.BackupFile, restored.record.backup_file);
  core.setOutput(RestoreOutputs.BackupKey, restored.key);
  core.setOutput(RestoreOutputs.Commit, restored.record.commit);
  core.setOutput(RestoreOutputs.Sha256, restored.sha256);
  core.setOutput(RestoreOutputs.Size, String(restored.size));
  core.setOutput(RestoreOutputs.Entries, String(restored.entries));
  core.setOutput(RestoreOutputs.Target, restored.target);
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary
      .addHeading('R2 restore', 2)
      .addTable([
        [
          { data: 'Item', header: true },
          { data: 'Value', header: true },
        ],
        ['Backup', `<code>${restored.key}</code> (${bucket})`],
        ['Commit', `${restored.record.commit} on ${restored.record.branch}`],
        [
          'Size',
          `${formatBytes(restored.size)}, SHA-256 ${restored.compared ? 'verified' : 'computed, not compared'}`,
        ],
        ['Entries', String(restored.entries)],
        ['Target', restored.target],
      ])
      .write();
  }
}

/** The restore sub-action: restore one backup, or fail the step saying why. */
export async function run(): Promise<void> {
  try {
    await restore();
  } catch (error) {
    // The Worker's reason is in the message; the README entry that fixes it follows.
    core.setFailed(
      error instanceof ValidationError
        ? withFix(`${error.message}. Nothing was restored.`, error)
        : explain(error),
    );
  }
}
