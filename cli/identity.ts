// The age identity of `restore` and `rekey`: --identity FILE, else R2_BACKUP_IDENTITY, which
// holds the identity itself (AGE-SECRET-KEY-1...) or the path of an identity file. Never printed.
import { identitiesFromSetting, readIdentityFile } from '../core/crypto/identities.js';
import type { OptionValues } from './command.js';

export const IDENTITY_ENV = 'R2_BACKUP_IDENTITY';
export const IDENTITY_NAMES = `--identity FILE or ${IDENTITY_ENV}`;

export const IDENTITY_HELP = `  --identity FILE    an age identity file (age-keygen, r2-backup keygen) to decrypt an
                     encrypted backup; default: ${IDENTITY_ENV}, which holds the identity
                     itself or the path of its file`;

/** The identities given, or undefined when none is (fine for a backup that is not encrypted). */
export function identitiesOf(values: OptionValues): string[] | undefined {
  if (typeof values.identity === 'string')
    return readIdentityFile(values.identity, `--identity ${values.identity}`);
  const setting = process.env[IDENTITY_ENV];
  return setting?.trim() ? identitiesFromSetting(setting, IDENTITY_ENV) : undefined;
}
