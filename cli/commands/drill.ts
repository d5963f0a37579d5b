// r2-backup drill: proves the newest backup restores. It is restored into a temporary directory
// (size and SHA-256 against the record, then every entry), its files counted against the
// record's file count, its git history and its wiki's (when it has them) restored and checked
// with `git bundle verify`, its LFS objects each checked against its SHA-256 with the history,
// its metadata export restored and rendered, its items counted against the record's counts;
// the directory is removed, and the outcome recorded as a `drill` notification, which the
// Worker's summaries and dashboard show as the tenant's last drill.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupMetadata } from '../../common/metadata.js';
import { restoreBackup } from '../../core/restore/backup.js';
import { restoreBackupHistory } from '../../core/restore/history.js';
import { restoreBackupMetadata } from '../../core/restore/metadata.js';
import type { Command } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  archiveSource,
  connect,
  recordLister,
  requireWorker,
  tenantAndBucket,
} from '../connection.js';
import { IDENTITY_HELP, identitiesOf } from '../identity.js';
// The flags as restore's messages name them: a drill is a restore.
import { OPTION_NAMES } from './restore.js';

/** Entries that are not directories (files, symbolic links), as the action counts file_count. */
function countFiles(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => !e.isDirectory()).length;
}

/** A notification's message: at most 2,000 characters, no control character but newline. */
// eslint-disable-next-line no-control-regex
const oneMessage = (text: string): string => text.replace(/[\x00-\x09\x0b-\x1f\x7f]/g, ' ').slice(0, 2000);

interface DrillOutcome {
  ok: boolean;
  lines: string[];
}

/** The restores a drill makes, each into a directory of its own. */
interface DrillRestores {
  archive: (target: string) => ReturnType<typeof restoreBackup>;
  history: (target: string, wiki: boolean) => ReturnType<typeof restoreBackupHistory>;
  metadata: (target: string) => ReturnType<typeof restoreBackupMetadata>;
}

/** `12 issues, 3 pulls, ...`, as restore --metadata says them. */
const describeCounts = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .map(([kind, count]) => `${count} ${kind.replace('_', ' ')}`)
    .join(', ');

/** The kinds whose restored count is not the record's (kinds the record does not count are not compared). */
const countsDiffering = (
  restored: Record<string, number>,
  recorded: Record<string, number> | undefined,
): string[] =>
  Object.entries(recorded ?? {})
    .filter(([kind, count]) => kind in restored && restored[kind] !== count)
    .map(([kind, count]) => `${restored[kind]} ${kind.replace('_', ' ')} restored, ${count} recorded`);

async function drillBackup(record: BackupMetadata, restore: DrillRestores): Promise<DrillOutcome> {
  const scratch = mkdtempSync(join(tmpdir(), 'r2-backup-drill-'));
  const lines: string[] = [];
  let ok = true;
  try {
    const restored = await restore.archive(join(scratch, 'tree'));
    lines.push(
      `archive ${record.backup_file}: ${restored.size} bytes, sha256 ${restored.compared ? 'matches the record' : 'computed (none recorded)'}`,
    );
    const files = countFiles(restored.target);
    if (record.file_count === undefined) lines.push(`${files} files (the record has no file count)`);
    else if (files === record.file_count) lines.push(`${files} files, as recorded`);
    else {
      ok = false;
      lines.push(`${files} files restored, ${record.file_count} recorded`);
    }
    if (record.bundle_key) {
      const history = await restore.history(join(scratch, 'history'), false);
      lines.push(`git history: bundle verified, ${history.refs} refs, HEAD ${history.head.commit}`);
      // The LFS objects come with the history: each one checked against its SHA-256.
      if (history.lfs) {
        const { objects, bytes } = history.lfs;
        if (record.lfs_count === undefined || objects === record.lfs_count)
          lines.push(`LFS: ${objects} objects (${bytes} bytes), each SHA-256 verified`);
        else {
          ok = false;
          lines.push(`LFS: ${objects} objects restored, ${record.lfs_count} recorded`);
        }
      }
    } else if (record.lfs_key)
      lines.push('LFS: objects listed but not checked (the backup has no git history)');
    if (record.wiki_key) {
      const wiki = await restore.history(join(scratch, 'wiki'), true);
      lines.push(`wiki: bundle verified, ${wiki.refs} refs, HEAD ${wiki.head.commit}`);
    }
    if (record.meta_key) {
      const meta = await restore.metadata(join(scratch, 'metadata'));
      const { counts, partial } = meta.rendered;
      lines.push(
        `metadata export ${meta.key}: ${meta.size} bytes, sha256 matches the record, ` +
          `${partial ? 'partial' : 'complete'}: ${describeCounts(counts)}`,
      );
      const differing = countsDiffering(counts, record.meta_counts);
      if (differing.length > 0) {
        ok = false;
        lines.push(`metadata export: ${differing.join(', ')}`);
      }
    }
  } catch (error) {
    ok = false;
    lines.push(`failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { ok, lines };
}

export const drill: Command = {
  name: 'drill',
  summary: 'restore the newest backup into a temporary directory, check it, record the outcome',
  help: `Usage: r2-backup drill --tenant T [--bucket B] [--identity FILE]

A restore drill: the tenant's newest backup is restored into a temporary directory as
\`r2-backup restore\` does (size and SHA-256 checked against the record before anything is
extracted), its files are counted against the record's file count, and its git history, when
it has one, is restored and checked with \`git bundle verify\`, with its LFS objects (each
checked against its SHA-256) and its wiki's history; its metadata export is restored and
rendered, its items counted against the record's counts. The directory is removed
whatever happens, and the outcome is recorded through the Worker as a \`drill\` notification
(the dashboard's "last drill"). Exits 0 when the drill passed, 1 when it failed.
docs/operations.md has a weekly workflow for it.

  --tenant T         tenant (required; default: the R2_BACKUP_TENANT environment variable)
  --bucket B         bucket (default: {tenant}-github-backup)
${IDENTITY_HELP}

${CONNECTION_HELP}`,
  options: { ...TENANT_OPTIONS, ...CONNECTION_OPTIONS, identity: { type: 'string' } },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const connection = connect(values as Record<string, string>);
    const worker = requireWorker(connection, 'drill');
    const listRecords = recordLister(connection, tenant, bucket, 'drill');
    const source = archiveSource(connection, 'drill');
    const identities = identitiesOf(values);
    const records = await listRecords();
    const record = records[0];
    if (!record) throw new Error(`No backups in tenant ${tenant}, bucket ${bucket}: nothing to drill`);
    const common = {
      listRecords: async () => records,
      source,
      tenant,
      bucket,
      selector: { backup: record.backup_file },
      names: OPTION_NAMES,
      identities,
      log: (line: string) => console.error(line),
      warn: (message: string) => console.error(`Warning: ${message}`),
    };
    const outcome = await drillBackup(record, {
      archive: (target) => restoreBackup({ ...common, target }),
      history: (target, wiki) => restoreBackupHistory({ ...common, target, wiki }),
      metadata: (target) => restoreBackupMetadata({ ...common, target }),
    });
    for (const line of outcome.lines) console.log(line);
    const status = outcome.ok ? 'success' : 'failure';
    await worker.notify({
      tenant,
      bucket,
      repo: record.repo,
      branch: record.branch,
      commit: record.commit,
      status,
      backup_file: record.backup_file,
      message: oneMessage(`Restore drill ${outcome.ok ? 'passed' : 'FAILED'}: ${outcome.lines.join('; ')}`),
      kind: 'drill',
    });
    console.log(
      `Restore drill of ${record.backup_file} (tenant ${tenant}, bucket ${bucket}): ${outcome.ok ? 'passed' : 'FAILED'}, recorded`,
    );
    return outcome.ok ? 0 : 1;
  },
};
