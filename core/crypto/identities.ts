// Who can decrypt: age identities (secret keys) as age-keygen writes them, one a line with `#`
// comments. They come from a file (--identity FILE), or as text (R2_BACKUP_IDENTITY, the
// restore sub-action's `identity` input); they are never printed.
import { readFileSync } from 'node:fs';
import { Decrypter } from 'age-encryption';
import { recipientFingerprint } from './recipients.js';
import { identityToRecipient } from 'age-encryption';

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** The identities in `text`; `source` says where they came from in errors (never the text). */
export function parseIdentities(text: string, source: string): string[] {
  const identities: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    if (!/^AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]+$/.test(line) || !isIdentity(line)) {
      throw new IdentityError(
        `${source} (line ${index + 1}) is not an age identity: expected AGE-SECRET-KEY-1... as age-keygen or r2-backup keygen writes it`,
      );
    }
    identities.push(line);
  });
  if (identities.length === 0)
    throw new IdentityError(`${source} holds no age identity (AGE-SECRET-KEY-1...)`);
  return identities;
}

function isIdentity(identity: string): boolean {
  try {
    new Decrypter().addIdentity(identity);
    return true;
  } catch {
    return false;
  }
}

/** The identities of a file, read as age reads `-i FILE`. */
export function readIdentityFile(path: string, source = path): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new IdentityError(
      `cannot read the identity file ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parseIdentities(text, source);
}

/**
 * R2_BACKUP_IDENTITY and the restore sub-action's `identity`: the identity text itself when it
 * holds `AGE-SECRET-KEY-`, else the path of an identity file.
 */
export function identitiesFromSetting(value: string, name: string): string[] {
  return /AGE-SECRET-KEY-/i.test(value)
    ? parseIdentities(value, name)
    : readIdentityFile(value.trim(), `${name} (file ${value.trim()})`);
}

/** The fingerprints of the recipients these identities decrypt for (to match a record's). */
export async function fingerprintsOf(identities: string[]): Promise<string[]> {
  return Promise.all(
    identities.map(async (identity) => recipientFingerprint(await identityToRecipient(identity))),
  );
}
