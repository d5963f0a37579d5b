// r2-backup drill: proves the newest backup restores. It is restored into a temporary directory
// (size and SHA-256 against the record, then every entry), its files counted against the
// record's file count, its git history (when it has one) restored and checked with
// `git bundle verify`; the directory is removed, and the outcome recorded as a `drill`
// notification, which the Worker's summaries and dashboard show as the tenant's last drill.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupMetadata } from '../../common/metadata.js';
import { restoreBackup } from '../../core/restore/backup.js';
import { restoreBackupHistory } from '../../core/restore/history.js';
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

async function drillBackup(
  record: BackupMetadata,
  restore: (target: string) => ReturnType<typeof restoreBackup>,
  restoreHistory: (target: string) => ReturnType<typeof restoreBackupHistory>,
): Promise<DrillOutcome> {
  const scratch = mkdtempSync(join(tmpdir(), 'r2-backup-drill-'));
  const lines: string[] = [];
  let ok = true;
  try {
    const restored = await restore(join(scratch, 'tree'));
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
      const history = await restoreHistory(join(scratch, 'history'));
      lines.push(`git history: bundle verified, ${history.refs} refs, HEAD ${history.head.commit}`);
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
it has one, is restored and checked with \`git bundle verify\`. The directory is removed
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
    };
    const outcome = await drillBackup(
      record,
      (target) => restoreBackup({ ...common, target }),
      (target) => restoreBackupHistory({ ...common, target }),
    );
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
