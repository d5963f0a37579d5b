// r2-backup restore: bring a backup back into a directory, verified by its SHA-256.
import { archiveKey, bundleFileName } from '../../common/naming.js';
import { openObject, type ArchiveSource } from '../../action/archive-source.js';
import { chooseRecord, restoreBackup, type RecordLister } from '../../action/restore-backup.js';
import { restoreHistory } from '../../action/restore-history.js';
import type { BackupSelector } from '../../action/backup-selection.js';
import type { Command, OptionValues } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  archiveSource,
  connect,
  recordLister,
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
  --history          restore the git history instead (include-git-history): the bundle is
                     checked (SHA-256, git bundle verify) and DIR becomes a repository with
                     every branch, tag and remote-tracking ref, HEAD checked out

${CONNECTION_HELP}`,
  options: {
    ...TENANT_OPTIONS,
    ...CONNECTION_OPTIONS,
    backup: { type: 'string' },
    latest: { type: 'boolean' },
    commit: { type: 'string' },
    target: { type: 'string' },
    force: { type: 'boolean' },
    history: { type: 'boolean' },
  },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const selector = selectorOf(values);
    if (typeof values.target !== 'string' || values.target === '')
      throw new UsageError('--target is required');
    const connection = connect(values as Record<string, string>);
    const listRecords = recordLister(connection, tenant, bucket, 'restore');
    const source = archiveSource(connection, 'restore');
    if (values.history) {
      return restoreGitHistory(
        listRecords,
        source,
        tenant,
        bucket,
        selector,
        values.target,
        values.force === true,
      );
    }
    const restored = await restoreBackup({
      listRecords,
      source,
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

async function restoreGitHistory(
  listRecords: RecordLister,
  source: ArchiveSource,
  tenant: string,
  bucket: string,
  selector: BackupSelector,
  target: string,
  force: boolean,
): Promise<number> {
  const record = await chooseRecord(listRecords, tenant, bucket, selector);
  if (!record.bundle_key || record.bundle_sha256 === undefined || record.bundle_size === undefined) {
    throw new Error(
      `Backup ${record.backup_file} has no git history: it was made without include-git-history`,
    );
  }
  const key = archiveKey(tenant, bundleFileName(record.backup_file));
  console.error(`Restoring the git history ${key} (${record.bundle_size} bytes) into ${target}`);
  if (record.bundle_shallow)
    console.error('Warning: this bundle was made from a shallow checkout; its history is incomplete');
  const restored = await restoreHistory({
    open: () => openObject(source, bucket, key),
    expected: { sha256: record.bundle_sha256, size: record.bundle_size },
    target,
    force,
  });
  const head = restored.head.branch
    ? `${restored.head.branch} at ${restored.head.commit}`
    : restored.head.commit;
  console.log(
    `Restored the git history of ${record.backup_file} into ${restored.target}: ${restored.refs} refs, HEAD ${head}`,
  );
  return 0;
}
