// `restore --history` (the CLI) and `history: true` (the restore sub-action): a backup's git
// bundle back as a repository with every ref it holds. git reads bundles from files only, so
// the download goes to a file in a staging directory beside the target, checked against the
// record's size and SHA-256 before git reads it; the repository is built there too, and moved
// into place only when every ref was fetched.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BackupMetadata } from '../../common/metadata.js';
import {
  archiveKey,
  bundleFileName,
  lfsListFileName,
  lfsObjectKey,
  wikiFileName,
} from '../../common/naming.js';
import { objectOpener } from '../r2/object-source.js';
import { downloadVerified, IntegrityError, type OpenArchive } from './archive.js';
import {
  chooseRecord,
  identityName,
  signatureDistrust,
  trustRecord,
  type ChosenBackupOptions,
} from './backup.js';
import { withStaging } from './staging.js';
import { checkBackupFile } from '../../common/validate.js';
import { decryptStaged, identitiesFor } from './encrypted.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { checkOutLfs, stageLfsObjects, type LfsRestoreSource, type RestoredLfs } from './lfs.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await exec('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

export interface RestoreHistoryOptions {
  open: OpenArchive;
  expected: { sha256: string; size: number };
  target: string;
  force?: boolean;
  /** How the caller spells `force`, for the refusal of a non-empty target. */
  forceName: string;
  /** age identities for an encrypted bundle (`.bundle.age`). */
  identities?: string[];
  /** The backup's LFS objects (include-lfs), into the repository before it is installed. */
  lfs?: LfsRestoreSource;
  /** The bundle's key and where a resumed download is said (downloadVerified). */
  object?: string;
  warn?: (message: string) => void;
}

export interface RestoredHistory {
  target: string;
  refs: number;
  /** The checked-out commit, and the branch when HEAD named one. */
  head: { commit: string; branch?: string };
  /** The LFS objects restored into .git/lfs/objects, when the backup had them. */
  lfs?: RestoredLfs;
}

export async function restoreHistory(options: RestoreHistoryOptions): Promise<RestoredHistory> {
  const force = { given: options.force, name: options.forceName };
  return withStaging(options.target, force, async ({ target, staging, install }) => {
    const bundle = join(staging, 'history.bundle');
    const stored = options.identities ? `${bundle}.age` : bundle;
    await downloadVerified(options.open, stored, options.expected, 'The git bundle', target, {
      warn: options.warn,
      object: options.object,
    });
    // git reads bundles from files only: the verified age file is decrypted into the staging
    // directory (this process's alone, removed however the restore ends).
    if (options.identities) {
      const plain = await decryptStaged(
        createReadStream(stored),
        options.identities,
        'The git bundle',
        target,
      );
      await pipeline(plain, createWriteStream(bundle, { mode: 0o600 }));
    }
    const repository = join(staging, 'repository');
    await mkdir(repository);
    await git(repository, 'init', '--quiet');
    try {
      await git(repository, 'bundle', 'verify', '--quiet', bundle);
    } catch (error) {
      throw new IntegrityError(
        `git bundle verify refused the bundle: ${(error as { stderr?: string }).stderr ?? error}`,
      );
    }
    // Every ref as it was: branches, tags and remote-tracking refs under their own names.
    await git(repository, 'fetch', '--quiet', '--update-head-ok', bundle, 'refs/*:refs/*');
    // Before the checkout: a git-lfs filter configured globally finds the objects in place.
    const lfsObjects =
      options.lfs &&
      (await stageLfsObjects(options.lfs, { staging, repository, target, identities: options.identities }));
    const head = await checkOutHead(repository, bundle);
    const lfs: RestoredLfs | undefined = lfsObjects && {
      objects: lfsObjects.length,
      bytes: lfsObjects.reduce((sum, { size }) => sum + size, 0),
      checkedOut: head.commit !== '' && (await checkOutLfs(repository, options.lfs?.warn)),
    };
    const refs = (await git(repository, 'for-each-ref', '--format=%(refname)'))
      .split('\n')
      .filter(Boolean).length;
    await install(repository);
    return { target, refs, head, ...(lfs && { lfs }) };
  });
}

/** HEAD as the bundle recorded it: the branch at that commit (the default branch first), else detached. */
async function checkOutHead(repository: string, bundle: string): Promise<RestoredHistory['head']> {
  const heads = (await git(repository, 'bundle', 'list-heads', bundle))
    .split('\n')
    .map((line) => line.split(' ') as [string, string]);
  const commit = heads.find(([, ref]) => ref === 'HEAD')?.[0];
  if (!commit) return { commit: '' };
  const branches = heads
    .filter(([sha, ref]) => sha === commit && ref.startsWith('refs/heads/'))
    .map(([, ref]) => ref);
  const branch =
    branches.find((ref) => ref === 'refs/heads/main' || ref === 'refs/heads/master') ?? branches[0];
  if (branch) {
    await git(repository, 'symbolic-ref', 'HEAD', branch);
    await git(repository, 'reset', '--quiet', '--hard');
    return { commit, branch: branch.slice('refs/heads/'.length) };
  }
  await git(repository, 'checkout', '--quiet', '--detach', commit);
  return { commit };
}

export interface RestoreBackupHistoryOptions extends ChosenBackupOptions {
  warn?: (message: string) => void;
  /** The wiki's history (include-wiki) instead of the repository's. */
  wiki?: boolean;
}

export interface RestoredBackupHistory extends RestoredHistory {
  record: BackupMetadata;
  /** The bundle's object key, and its size and SHA-256 as the record gives them and the download matched. */
  key: string;
  size: number;
  sha256: string;
}

/** Where the record's LFS list and objects are read from, when it has them (include-lfs). */
function lfsSourceOf(
  options: RestoreBackupHistoryOptions,
  record: BackupMetadata,
): LfsRestoreSource | undefined {
  const { lfs_key, lfs_size: size, lfs_sha256: sha256 } = record;
  if (!lfs_key || size === undefined || sha256 === undefined) return undefined;
  const { source, bucket, tenant } = options;
  // The keys from the validated file name and the list's checked oids, never the record's text.
  const listKey = archiveKey(tenant, lfsListFileName(record.backup_file));
  options.log?.(`Restoring the LFS objects listed in ${listKey} (${size} bytes)`);
  return {
    openList: objectOpener(source, bucket, listKey),
    list: { sha256, size },
    openObject: (oid) => objectOpener(source, bucket, lfsObjectKey(tenant, oid)),
    warn: options.warn,
  };
}

/** HEAD as the restore reports it: `main at {commit}`, or the commit alone when detached. */
export const describeHead = ({ commit, branch }: RestoredHistory['head']): string =>
  branch ? `${branch} at ${commit}` : commit;

/** The git history of the backup a selector names, as a repository at the target. */
export async function restoreBackupHistory(
  options: RestoreBackupHistoryOptions,
): Promise<RestoredBackupHistory> {
  const { tenant, bucket, target } = options;
  const record = await chooseRecord(options.listRecords, tenant, bucket, options.selector);
  const [recordedKey, sha256, size] = options.wiki
    ? [record.wiki_key, record.wiki_sha256, record.wiki_size]
    : [record.bundle_key, record.bundle_sha256, record.bundle_size];
  if (!recordedKey || sha256 === undefined || size === undefined) {
    throw new Error(
      options.wiki
        ? `Backup ${record.backup_file} has no wiki: it was made without include-wiki, or the wiki had no page`
        : `Backup ${record.backup_file} has no git history: it was made without include-git-history`,
    );
  }
  // The bundle's hash is only as good as the record that gives it: the same trust as an archive.
  trustRecord(record, signatureDistrust(record, bucket), options);
  const { encrypted } = checkBackupFile(record.backup_file, tenant);
  const identities = await identitiesFor(record, encrypted, options.identities, identityName(options.names));
  // The key from the validated file name, never the record's own text.
  const key = archiveKey(tenant, (options.wiki ? wikiFileName : bundleFileName)(record.backup_file));
  options.log?.(
    `Restoring the ${options.wiki ? "wiki's" : 'git'} history ${key} (${size} bytes) into ${target}`,
  );
  if (record.bundle_shallow && !options.wiki)
    options.warn?.('this bundle was made from a shallow checkout; its history is incomplete');
  const restored = await restoreHistory({
    open: objectOpener(options.source, bucket, key),
    expected: { sha256, size },
    target,
    force: options.force,
    forceName: options.names.force,
    identities,
    lfs: options.wiki ? undefined : lfsSourceOf(options, record),
    object: key,
    warn: options.warn,
  });
  return { ...restored, record, key, size, sha256 };
}
