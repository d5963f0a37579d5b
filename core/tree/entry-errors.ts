// The two ways an archive is refused at restore: its bytes are not a tar archive we can read
// (CorruptArchiveError), or an entry is one that restore never writes (UnsafeArchiveError).
import { quoteName } from './entry-name.js';

/** The bytes are not a well-formed tar archive: corrupt, truncated or not tar at all. */
export class CorruptArchiveError extends Error {
  override name = 'CorruptArchiveError';
}

/** An entry restore refuses: it would land outside the target, or is of a kind never restored. */
export class UnsafeArchiveError extends Error {
  override name = 'UnsafeArchiveError';
  constructor(entryName: string, reason: string) {
    super(`Refused archive entry ${quoteName(entryName)}: ${reason}. Nothing was restored.`);
  }
}
