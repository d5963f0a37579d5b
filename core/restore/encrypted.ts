// Restoring an encrypted backup (encryption-recipients): which identities to decrypt it with,
// settled from its record before anything is downloaded, and the staged download decrypted
// while it is read back (after its SHA-256 matched the record's, which is of the ciphertext).
import type { Readable } from 'node:stream';
import type { BackupMetadata } from '../../common/metadata.js';
import { DecryptionError, WrongIdentityError, decryptingStream } from '../crypto/age-stream.js';
import { fingerprintsOf } from '../crypto/identities.js';

export { DecryptionError };

/**
 * The identities to decrypt `record`'s archive with; undefined when it is not encrypted. An
 * encrypted backup without an identity, or with none of its recipients', stops here: nothing
 * is downloaded.
 */
export async function identitiesFor(
  record: BackupMetadata,
  encrypted: boolean,
  identities: string[] | undefined,
  identityName: string,
): Promise<string[] | undefined> {
  if (!encrypted) return undefined;
  const recipients = record.recipients?.length ? record.recipients.join(', ') : 'not recorded';
  if (!identities?.length) {
    throw new Error(
      `${record.backup_file} is encrypted with age for the recipients with fingerprints ${recipients}: ` +
        `give the identity of one of them (${identityName}). Nothing was downloaded.`,
    );
  }
  if (record.recipients?.length) {
    const given = await fingerprintsOf(identities);
    if (!given.some((fingerprint) => record.recipients!.includes(fingerprint))) {
      throw new Error(
        `None of the identities given (their recipients' fingerprints ${given.join(', ')}) can decrypt ` +
          `${record.backup_file}, which is encrypted for ${recipients}. Nothing was downloaded.`,
      );
    }
  }
  return identities;
}

/** The plaintext of a staged, verified age file; a wrong identity is refused at its header,
 *  before any payload is read, with the target left as it was. */
export async function decryptStaged(
  staged: Readable,
  identities: string[],
  what: string,
  target: string,
): Promise<Readable> {
  try {
    return await decryptingStream(staged, identities);
  } catch (error) {
    if (error instanceof WrongIdentityError) {
      throw new Error(
        `None of the identities given can decrypt ${what} (no recipient in its age header matches). ` +
          `Nothing was written: ${target} was left as it was.`,
      );
    }
    throw new DecryptionError(
      `${what} matches its record but cannot be decrypted (${(error as Error).message}). Nothing was written: ${target} was left as it was.`,
    );
  }
}
