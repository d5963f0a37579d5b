// Who an encrypted backup is for: age recipients (public keys, `age1...`, or the post-quantum
// hybrid `age1pq1...`), one a line. Only public keys belong here; a secret key given by
// mistake is refused without being echoed, and the caller masks it (secretKeysIn).
import { createHash } from 'node:crypto';
import { Encrypter } from 'age-encryption';
import { ValidationError } from '../../common/validate.js';
import { MAX_RECIPIENTS } from '../../common/record-input.js';

// age's identities: `AGE-SECRET-KEY-1...`, `AGE-SECRET-KEY-PQ-1...` and plugins' `AGE-PLUGIN-...`.
const SECRET_KEY_RE = /AGE-(?:SECRET-KEY|PLUGIN)-[A-Z0-9-]*1[02-9AC-HJ-NP-Z]+/gi;

/** Every text in `text` that looks like an age secret key, for the caller to mask before it
 *  can reach a log. */
export const secretKeysIn = (text: string): string[] => text.match(SECRET_KEY_RE) ?? [];

/**
 * The recipients of `text`: one a line, blank lines and `#` comments skipped (as in age's
 * recipients files). The error names `field` and the line, never the line's text when it
 * holds a secret key.
 */
export function parseRecipients(text: string, field: string): string[] {
  const recipients: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const where = `${field} (line ${index + 1})`;
    if (secretKeysIn(raw).length > 0 || /AGE-SECRET-KEY/i.test(raw)) {
      throw new ValidationError(
        where,
        'is a secret key (AGE-SECRET-KEY-...) where a public recipient (age1...) belongs: give the recipient `age-keygen -y` prints for it, and keep the key out of CI (it was masked)',
      );
    }
    if (!/^age1[0-9a-z]+$/.test(line) || !isRecipient(line)) {
      throw new ValidationError(where, 'must be an age recipient: "age1..." or "age1pq1..." (one a line)');
    }
    if (!recipients.includes(line)) recipients.push(line);
  });
  if (recipients.length === 0) throw new ValidationError(field, 'must list at least one age recipient');
  if (recipients.length > MAX_RECIPIENTS) {
    throw new ValidationError(field, `must list at most ${MAX_RECIPIENTS} recipients`);
  }
  return recipients;
}

/** What age itself accepts (bech32 checksum, key length). */
function isRecipient(recipient: string): boolean {
  try {
    new Encrypter().addRecipient(recipient);
    return true;
  } catch {
    return false;
  }
}

/** A recipient as records name it: the first 16 hex digits of the SHA-256 of its text. It
 *  tells recipients apart without naming keys in the bucket. */
export const recipientFingerprint = (recipient: string): string =>
  createHash('sha256').update(recipient).digest('hex').slice(0, 16);
