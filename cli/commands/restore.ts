// r2-backup restore: bring a backup back into a directory, verified by its SHA-256.
import { restoreBackup } from '../../action/restore-backup.js';
import type { BackupSelector } from '../../action/backup-selection.js';
import type { Command, OptionValues } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  archiveSource,
  connect,
  requireWorker,
  tenantAndBucket,
} from '../connection.js';
import { UsageError } from '../usage.js';

function selectorOf(values: OptionValues): BackupSelector {
  const given = [values.backup !== undefined, values.latest === true, values.commit !== undefined];
  if (given.filter(Boolean).length !== 1)
    throw new UsageError('choose the backup with one of --backup, --latest, --commit');
  if (typeof values.backup === 'string') return { backup: values.backup };
  if (typeof values.commit === 'string') return { commit: values.commit };
  return { latest: true };
}

export const restore: Command = {
  name: 'restore',
  summary: 'restore a backup into a directory, verified by its SHA-256',
  help: `Usage: r2-backup restore --tenant T [--bucket B] (--backup FILE | --latest | --commit PREFIX)
                         --target DIR [--force]

Streams the archive, checks its size and SHA-256 against the backup's record while
extracting into a directory beside DIR, and moves it into place only when both match: a
corrupt archive leaves DIR as it was. Entries that would land outside DIR (absolute paths,
"..", links pointing out) are refused. gzip, zstd and plain tar archives.

  --tenant T         tenant (required)
  --bucket B         bucket (default: {tenant}-github-backup)
  --backup FILE      the backup of that file name (for example 20250101-120000.tar.gz)
  --latest           the newest backup
  --commit PREFIX    the newest backup of the commit starting with PREFIX (4+ hex characters)
  --target DIR       where to restore (required); must be empty or missing unless --force
  --force            replace a non-empty DIR (only after the archive checked out)

${CONNECTION_HELP}`,
  options: {
    ...TENANT_OPTIONS,
    ...CONNECTION_OPTIONS,
    backup: { type: 'string' },
    latest: { type: 'boolean' },
    commit: { type: 'string' },
    target: { type: 'string' },
    force: { type: 'boolean' },
  },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const selector = selectorOf(values);
    if (typeof values.target !== 'string' || values.target === '')
      throw new UsageError('--target is required');
    const connection = connect(values as Record<string, string>);
    const restored = await restoreBackup({
      worker: requireWorker(connection, 'restore'),
      source: archiveSource(connection, 'restore'),
      tenant,
      bucket,
      selector,
      target: values.target,
      force: values.force === true,
      log: (line) => console.error(line),
    });
    console.log(
      `Restored ${restored.record.backup_file} into ${restored.target}: ${restored.entries} entries, ` +
        `${restored.size} bytes, sha256 ${restored.sha256} verified`,
    );
    return 0;
  },
};
