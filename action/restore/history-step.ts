// `history: true`: the selected backup's git bundle, checked, restored as a repository at the
// target (core/restore/history.ts, as `r2-backup restore --history` does), with the step's
// outputs and job summary. `wiki: true` is the same with the wiki's bundle (include-wiki), under
// the same outputs.
import * as core from '@actions/core';
import { formatBytes } from '../../core/format.js';
import {
  describeHead,
  restoreBackupHistory,
  type RestoreBackupHistoryOptions,
} from '../../core/restore/history.js';
import { RestoreOutputs } from '../constants.js';

export async function restoreGitHistory(
  options: Omit<RestoreBackupHistoryOptions, 'log' | 'warn'>,
): Promise<void> {
  const restored = await restoreBackupHistory({
    ...options,
    log: (line) => core.info(line),
    warn: (message) => core.warning(message),
  });
  const { record, head } = restored;
  core.info(
    `Restored the ${options.wiki ? "wiki's" : 'git'} history of ${record.backup_file} into ${restored.target}: ${restored.refs} refs, HEAD ${describeHead(head)}`,
  );
  if (restored.lfs) {
    core.info(
      `Restored ${restored.lfs.objects} LFS objects (${restored.lfs.bytes} bytes, each SHA-256 verified) into .git/lfs/objects`,
    );
  }
  core.setOutput(RestoreOutputs.BackupFile, record.backup_file);
  core.setOutput(RestoreOutputs.Commit, record.commit);
  core.setOutput(RestoreOutputs.Target, restored.target);
  core.setOutput(RestoreOutputs.BundleKey, restored.key);
  core.setOutput(RestoreOutputs.BundleSha256, restored.sha256);
  core.setOutput(RestoreOutputs.BundleSize, String(restored.size));
  core.setOutput(RestoreOutputs.Refs, String(restored.refs));
  core.setOutput(RestoreOutputs.HeadCommit, head.commit);
  core.setOutput(RestoreOutputs.HeadBranch, head.branch ?? '');
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary
    .addHeading('R2 restore', 2)
    .addTable([
      [
        { data: 'Item', header: true },
        { data: 'Value', header: true },
      ],
      options.wiki
        ? ["Wiki's history", `<code>${restored.key}</code> (${options.bucket})`]
        : [
            'Git history',
            `<code>${restored.key}</code> (${options.bucket})${record.bundle_shallow ? ', shallow: history incomplete' : ''}`,
          ],
      ['Commit', `${record.commit} on ${record.branch}`],
      ['Size', `${formatBytes(restored.size)}, SHA-256 verified, git bundle verify passed`],
      ['Refs', String(restored.refs)],
      ['HEAD', describeHead(head)],
      ['Target', restored.target],
    ])
    .write();
}
