// What a finished backup reports: step outputs and the job summary.
import * as core from '@actions/core';
import { formatBytes, formatDuration, formatRate } from '../../core/format.js';
import { BackupOutputs } from '../constants.js';
import type { MirrorReport } from './mirror-step.js';
import { describeCounts, type StoredExport } from './metadata-step.js';
import type { StoredWiki } from './wiki-step.js';
import type { StoredLfs } from './lfs-step.js';

/** The git history stored beside the archive (include-git-history). */
export interface StoredBundle {
  key: string;
  size: number;
  sha256: string;
  shallow: boolean;
}

export interface BackupReport {
  tenant: string;
  bucket: string;
  key: string;
  backupFile: string;
  size: number;
  sha256: string;
  fileCount: number;
  bytesIn: number;
  durationMs: number;
  compression: string;
  destination: string;
  /** Whether the Worker stored the metadata record. */
  recorded: boolean;
  bundle?: StoredBundle;
  /** The repository's metadata export (include-metadata). */
  meta?: StoredExport;
  /** The wiki's history (include-wiki). */
  wiki?: StoredWiki;
  /** The LFS objects' list (include-lfs). */
  lfs?: StoredLfs;
  /** Backups deleted by the keep-* policy (undefined: no policy, or the prune failed). */
  pruned?: number;
  /** The file mirror's outcome, with `sync-files`. */
  mirror?: MirrorReport;
  /** What the exclude patterns left out (and kept), one cell; undefined when nothing matched. */
  excluded?: string;
}

export function setOutputs(report: BackupReport): void {
  core.setOutput(BackupOutputs.Tenant, report.tenant);
  core.setOutput(BackupOutputs.Bucket, report.bucket);
  core.setOutput(BackupOutputs.BackupKey, report.key);
  core.setOutput(BackupOutputs.BackupFile, report.backupFile);
  core.setOutput(BackupOutputs.Size, String(report.size));
  core.setOutput(BackupOutputs.Sha256, report.sha256);
  core.setOutput(BackupOutputs.FileCount, String(report.fileCount));
  core.setOutput(BackupOutputs.DurationMs, String(report.durationMs));
  if (report.bundle) {
    core.setOutput(BackupOutputs.BundleKey, report.bundle.key);
    core.setOutput(BackupOutputs.BundleSize, String(report.bundle.size));
    core.setOutput(BackupOutputs.BundleSha256, report.bundle.sha256);
  }
  if (report.meta) {
    core.setOutput(BackupOutputs.MetadataKey, report.meta.key);
    core.setOutput(BackupOutputs.MetadataSize, String(report.meta.size));
    core.setOutput(BackupOutputs.MetadataSha256, report.meta.sha256);
    core.setOutput(BackupOutputs.MetadataPartial, String(report.meta.manifest.partial));
  }
  if (report.wiki) {
    core.setOutput(BackupOutputs.WikiKey, report.wiki.key);
    core.setOutput(BackupOutputs.WikiSize, String(report.wiki.size));
    core.setOutput(BackupOutputs.WikiSha256, report.wiki.sha256);
  }
  if (report.lfs) {
    core.setOutput(BackupOutputs.LfsObjects, String(report.lfs.count));
    core.setOutput(BackupOutputs.LfsStored, String(report.lfs.uploaded));
  }
}

export function setMirrorOutputs(mirror: MirrorReport): void {
  core.setOutput(BackupOutputs.FilesUploaded, String(mirror.uploaded));
  core.setOutput(BackupOutputs.FilesDeleted, String(mirror.deleted));
  core.setOutput(BackupOutputs.FilesUnchanged, String(mirror.unchanged));
  core.setOutput(BackupOutputs.SyncRequests, String(mirror.requests));
}

const mirrorLine = (m: MirrorReport): string =>
  `<code>${m.prefix}</code>: ${m.uploaded} uploaded, ${m.deleted} deleted, ${m.unchanged} unchanged` +
  `${m.kept ? `, ${m.kept} kept` : ''}; ${m.requests} requests in ${formatDuration(m.durationMs)}`;

export async function writeSummary(report: BackupReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary
    .addHeading('R2 backup', 2)
    .addTable([
      [
        { data: 'Item', header: true },
        { data: 'Value', header: true },
      ],
      ['Tenant', report.tenant],
      ['Bucket', report.bucket],
      ['Key', `<code>${report.key}</code>`],
      ['Size', `${formatBytes(report.size)} (${report.size} bytes, ${report.compression})`],
      ['Files', String(report.fileCount)],
      ...(report.excluded ? [['Excluded', report.excluded]] : []),
      ['SHA-256', `<code>${report.sha256}</code>`],
      ['Duration', formatDuration(report.durationMs)],
      [
        'Throughput',
        `${formatRate(report.bytesIn, report.durationMs)} read, ${formatRate(report.size, report.durationMs)} uploaded`,
      ],
      ['Stored on', report.destination],
      ['Metadata', report.recorded ? 'recorded by the Worker' : 'not recorded'],
      ...(report.bundle
        ? [
            [
              'Git history',
              `<code>${report.bundle.key}</code>, ${formatBytes(report.bundle.size)}${report.bundle.shallow ? ', shallow (incomplete)' : ''}, SHA-256 <code>${report.bundle.sha256}</code>`,
            ],
          ]
        : []),
      ...(report.meta
        ? [
            [
              'Issues, pull requests, releases',
              `<code>${report.meta.key}</code>, ${formatBytes(report.meta.size)}: ${describeCounts(report.meta.manifest)}; ${report.meta.manifest.requests} API requests${report.meta.manifest.partial ? `; <b>partial</b> (${report.meta.manifest.partial_reason}), the next run continues` : ''}`,
            ],
          ]
        : []),
      ...(report.wiki
        ? [
            [
              'Wiki',
              `<code>${report.wiki.key}</code>, ${formatBytes(report.wiki.size)}, SHA-256 <code>${report.wiki.sha256}</code>`,
            ],
          ]
        : []),
      ...(report.lfs
        ? [
            [
              'LFS objects',
              `${report.lfs.count} (${formatBytes(report.lfs.bytes)}) listed in <code>${report.lfs.key}</code>; ${report.lfs.uploaded} uploaded by this run`,
            ],
          ]
        : []),
      ...(report.pruned !== undefined ? [['Retention', `${report.pruned} older backups deleted`]] : []),
      ...(report.mirror ? [['File mirror', mirrorLine(report.mirror)]] : []),
    ])
    .write();
}
