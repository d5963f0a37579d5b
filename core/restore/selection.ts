// Which backup a restore means: a file name, the newest, or a commit (prefix), chosen from a
// tenant's records as the Worker lists them (newest first).
import type { BackupMetadata } from '../../common/metadata.js';
import { ValidationError } from '../../common/validate.js';
import { NotFoundError } from '../errors.js';
import type { NewestArchive } from './unrecorded.js';

export type BackupSelector =
  | { backup: string }
  /** `newestArchive`: the tenant's newest stored archive, which must not be newer than the
   *  newest record (unrecorded.ts). */
  | { latest: true; newestArchive?: NewestArchive }
  | { commit: string };

export function selectBackup(
  records: BackupMetadata[],
  selector: BackupSelector,
  where: string,
): BackupMetadata {
  if ('backup' in selector) {
    const found = records.find((r) => r.backup_file === selector.backup);
    if (!found) throw new NotFoundError(`No backup ${selector.backup} in ${where}`);
    return found;
  }
  if ('latest' in selector) {
    if (records.length === 0) throw new NotFoundError(`No backups in ${where}`);
    return records[0]!;
  }
  const prefix = selector.commit.toLowerCase();
  if (!/^[0-9a-f]{4,64}$/.test(prefix))
    throw new ValidationError('commit', 'must be 4 to 64 hexadecimal characters');
  const matches = records.filter((r) => r.commit.startsWith(prefix));
  const commits = new Set(matches.map((r) => r.commit));
  if (commits.size === 0)
    throw new NotFoundError(`No backup of a commit starting with ${prefix} in ${where}`);
  if (commits.size > 1) {
    throw new Error(
      `Commit prefix ${prefix} is ambiguous in ${where}: ${[...commits].join(', ')}; give more characters`,
    );
  }
  return matches[0]!; // the newest backup of that commit
}
