// `metadata: true`: the selected backup's metadata export (include-metadata), checked and
// rendered at the target as `r2-backup restore --metadata` does (core/restore/metadata.ts):
// README.md, issues/, pulls/, releases/ and json/, with the step's outputs and job summary.
import * as core from '@actions/core';
import { formatBytes } from '../../core/format.js';
import {
  describeCounts,
  describeRestoredMetadata,
  restoreBackupMetadata,
  type RestoreBackupMetadataOptions,
} from '../../core/restore/metadata.js';
import { RestoreOutputs } from '../constants.js';

export async function restoreMetadataExport(
  options: Omit<RestoreBackupMetadataOptions, 'log' | 'warn'>,
): Promise<void> {
  const restored = await restoreBackupMetadata({
    ...options,
    log: (line) => core.info(line),
    warn: (message) => core.warning(message),
  });
  const { record, rendered } = restored;
  core.info(describeRestoredMetadata(restored));
  core.setOutput(RestoreOutputs.BackupFile, record.backup_file);
  core.setOutput(RestoreOutputs.Commit, record.commit);
  core.setOutput(RestoreOutputs.Target, restored.target);
  core.setOutput(RestoreOutputs.MetadataKey, restored.key);
  core.setOutput(RestoreOutputs.MetadataSha256, restored.sha256);
  core.setOutput(RestoreOutputs.MetadataSize, String(restored.size));
  core.setOutput(RestoreOutputs.MetadataPartial, String(rendered.partial));
  core.setOutput(RestoreOutputs.MetadataCounts, JSON.stringify(rendered.counts));
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary
    .addHeading('R2 restore', 2)
    .addTable([
      [
        { data: 'Item', header: true },
        { data: 'Value', header: true },
      ],
      ['Metadata export', `<code>${restored.key}</code> (${options.bucket})`],
      ['Commit', `${record.commit} on ${record.branch}`],
      [
        'Size',
        `${formatBytes(restored.size)}, SHA-256 verified${rendered.partial ? ', partial: the export stopped early' : ''}`,
      ],
      ['Items', describeCounts(rendered.counts)],
      ['Target', restored.target],
    ])
    .write();
}
