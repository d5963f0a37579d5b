// r2-backup restore: bring a backup back into a directory, verified by its SHA-256.
import type { ArchiveSource } from '../../core/r2/object-source.js';
import { restoreBackup, type RecordLister } from '../../core/restore/backup.js';
import { describeHead, restoreBackupHistory } from '../../core/restore/history.js';
import {
  describeRestoredMetadata,
  restoreBackupMetadata,
  type RestoreBackupMetadataOptions,
} from '../../core/restore/metadata.js';
import type { BackupSelector } from '../../core/restore/selection.js';
import { newestArchiveOf } from '../../core/restore/unrecorded.js';
import type { RestoreOptionNames } from '../../core/restore/option-names.js';
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
import { restoreProgress } from '../progress.js';
import { UsageError } from '../usage.js';
import { IDENTITY_HELP, IDENTITY_NAMES, identitiesOf } from '../identity.js';
import { checkByteCount } from '../../common/validate.js';
import { describeSymlinks } from '../../core/restore/archive.js';

/** The flags as the shared restore's messages name them (the sub-action names its inputs). */
export const OPTION_NAMES: RestoreOptionNames = {
  force: '--force',
  allowUnverified: '--allow-unverified',
  maxBytes: '--max-bytes',
  identity: IDENTITY_NAMES,
};

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
                         --target DIR [--force] [--max-bytes N] [--allow-unverified] [--json]
                         [--history | --wiki | --metadata]

Downloads the archive into a staging directory beside DIR and checks its size and SHA-256
against the backup's record before anything is extracted: a replaced or corrupt object writes
nothing. It then extracts there and moves the tree into place only when every entry was
restored: a refused archive leaves DIR as it was, and the staging directory is removed however
the restore ends (errors, Ctrl-C, SIGTERM). A lock file beside DIR (.DIR.restore-lock) keeps
out a second restore while one writes DIR: it is refused (exit 1), naming the process that
holds DIR; the lock of a restore that was killed is taken over. gzip, zstd and plain tar
archives, as GNU tar, bsdtar, Python's tarfile and this action write them, sparse files
included.

Refused (the whole restore, naming the entry where there is one): names that are empty,
absolute, contain a ".." segment, a NUL, a backslash or a drive letter ("C:") at the start of
any segment, are longer than 65,536 bytes or deeper than 2,048 levels; a root entry ("./")
that is not a directory; symbolic link targets that are empty, longer than 4,096 bytes, or
contain a NUL, a backslash or a drive letter at the start of a segment; hard link targets
refused as names are, or anything but a regular file the archive created before the link;
any entry whose path goes through a symbolic link of the archive (names compared ignoring case
and Unicode form); a symbolic link named as a directory; an entry replacing a directory;
devices, FIFOs, multi-volume continuations and unknown entry types; more than 1 MiB of
extension data for one entry (pax headers, GNU long names and long link names together); a
sparse map over 1 MiB or one that does not fit its file; an archive that expands past
--max-bytes (each entry counting at least 512 bytes), ends inside an entry or holds no entry.
Symbolic links are restored verbatim (absolute or pointing outside DIR,
as git checks them out), last, and listed: nothing is ever written through one. setuid and
setgid bits are dropped.

  --tenant T         tenant (required; default: the R2_BACKUP_TENANT environment variable)
  --bucket B         bucket (default: {tenant}-github-backup)
  --backup FILE      the backup of that file name (for example 20250101-120000.tar.gz)
  --latest           the newest backup
  --commit PREFIX    the newest backup of the commit starting with PREFIX (4+ hex characters)
  --target DIR       where to restore (required); must be empty or missing unless --force
  --force            replace a non-empty DIR (only after the archive checked out)
  --allow-unverified restore a record the Worker does not vouch for: unsigned (written by
                     the earlier shell workflow, or planted over S3), tampered, or without a
                     SHA-256 (then the archive's hash is computed and printed, not compared)
  --max-bytes N      refuse an archive that expands past N bytes (K, M, G, T allowed;
                     default: the free space of DIR's file system less 64 MiB)
  --json             print {backup_file, key, target, entries, size, sha256, compared,
                     symlinks: [{path, target}]} instead of the result line (README: "JSON
                     output"); with --history {backup_file, target, refs, head: {commit,
                     branch}, lfs: {objects, bytes, checkedOut} when it has LFS objects}
  --history          restore the git history instead (include-git-history): the bundle is
                     checked (SHA-256, git bundle verify) and DIR becomes a repository with
                     every branch, tag and remote-tracking ref, HEAD checked out; a backup
                     with LFS objects (include-lfs) gets them in .git/lfs/objects, each
                     checked against its SHA-256, and the files' content checked out
  --wiki             restore the wiki's history instead (include-wiki), as --history does
                     the repository's: DIR becomes the wiki's repository
  --metadata         restore the metadata export instead (include-metadata: issues, pull
                     requests, reviews, comments, labels, milestones, releases with their
                     assets), checked against the record (size, SHA-256) before anything is
                     written. DIR gets README.md (the repository and an index), issues/N.md,
                     pulls/N.md, releases/ID.md with each release's assets in releases/ID/,
                     and json/, the export as GitHub answered it. An export holding anything
                     but regular files and directories is refused. With --json
                     {backup_file, key, target, size, sha256, repository, exported_at,
                     partial, partial_reason, counts}
${IDENTITY_HELP}

${CONNECTION_HELP}`,
  options: {
    ...TENANT_OPTIONS,
    ...CONNECTION_OPTIONS,
    backup: { type: 'string' },
    latest: { type: 'boolean' },
    commit: { type: 'string' },
    target: { type: 'string' },
    force: { type: 'boolean' },
    'max-bytes': { type: 'string' },
    'allow-unverified': { type: 'boolean' },
    history: { type: 'boolean' },
    metadata: { type: 'boolean' },
    wiki: { type: 'boolean' },
    json: { type: 'boolean' },
    identity: { type: 'string' },
  },
  async run(values) {
    if ([values.history, values.metadata, values.wiki].filter(Boolean).length > 1)
      throw new UsageError('--history, --wiki and --metadata restore different things: give one of them');
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const selector = selectorOf(values);
    if (typeof values.target !== 'string' || values.target === '')
      throw new UsageError('--target is required');
    const connection = connect(values as Record<string, string>);
    if ('latest' in selector) selector.newestArchive = newestArchiveOf(tenant, bucket, connection);
    const listRecords = recordLister(connection, tenant, bucket, 'restore');
    const source = archiveSource(connection, 'restore');
    if (values.history || values.wiki) {
      return restoreGitHistory(
        listRecords,
        source,
        tenant,
        bucket,
        selector,
        values.target,
        values.force === true,
        values['allow-unverified'] === true,
        identitiesOf(values),
        values.json === true,
        values.wiki === true,
      );
    }
    // What the metadata export and the archive restore are both given.
    const selected = {
      listRecords,
      source,
      tenant,
      bucket,
      selector,
      target: values.target,
      force: values.force === true,
      allowUnverified: values['allow-unverified'] === true,
      identities: identitiesOf(values),
      maxBytes: maxBytesOf(values),
    };
    if (values.metadata) return restoreMetadata({ ...selected, json: values.json === true });
    const progress = restoreProgress();
    const restored = await restoreBackup({
      ...selected,
      names: OPTION_NAMES,
      log: (line) => console.error(line),
      onProgress: progress.onProgress,
    }).finally(progress.stop);
    if (values.json) {
      const { record, key, target, entries, size, sha256, compared, symlinks } = restored;
      const result = {
        backup_file: record.backup_file,
        key,
        target,
        entries,
        size,
        sha256,
        compared,
        symlinks,
      };
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    const checked = restored.compared ? 'verified' : 'computed (the record has none to compare)';
    console.log(
      `Restored ${restored.record.backup_file} into ${restored.target}: ${restored.entries} entries, ` +
        `${restored.size} bytes, sha256 ${restored.sha256} ${checked}`,
    );
    for (const line of describeSymlinks(restored.symlinks)) console.log(line);
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
  allowUnverified: boolean,
  identities: string[] | undefined,
  json: boolean,
  wiki: boolean,
): Promise<number> {
  const restored = await restoreBackupHistory({
    wiki,
    listRecords,
    source,
    tenant,
    bucket,
    selector,
    target,
    force,
    allowUnverified,
    names: OPTION_NAMES,
    identities,
    log: (line) => console.error(line),
    warn: (message) => console.error(`Warning: ${message}`),
  });
  if (json) {
    const { record, target: into, refs, head, lfs } = restored;
    console.log(JSON.stringify({ backup_file: record.backup_file, target: into, refs, head, lfs }, null, 2));
    return 0;
  }
  console.log(
    `Restored the ${wiki ? "wiki's" : 'git'} history of ${restored.record.backup_file} into ${restored.target}: ${restored.refs} refs, HEAD ${describeHead(restored.head)}`,
  );
  if (restored.lfs) {
    console.log(
      `Restored ${restored.lfs.objects} LFS objects (${restored.lfs.bytes} bytes, each SHA-256 verified) into .git/lfs/objects`,
    );
  }
  return 0;
}

const maxBytesOf = (values: OptionValues): number | undefined =>
  values['max-bytes'] === undefined
    ? undefined
    : checkByteCount(String(values['max-bytes']), OPTION_NAMES.maxBytes);

async function restoreMetadata(
  options: Omit<RestoreBackupMetadataOptions, 'names' | 'log' | 'warn' | 'onProgress'> & { json: boolean },
): Promise<number> {
  const progress = restoreProgress();
  const restored = await restoreBackupMetadata({
    ...options,
    names: OPTION_NAMES,
    log: (line) => console.error(line),
    warn: (message) => console.error(`Warning: ${message}`),
    onProgress: progress.onProgress,
  }).finally(progress.stop);
  const { record, key, target, size, sha256, rendered } = restored;
  console.log(
    options.json
      ? JSON.stringify({ backup_file: record.backup_file, key, target, size, sha256, ...rendered }, null, 2)
      : describeRestoredMetadata(restored),
  );
  return 0;
}
