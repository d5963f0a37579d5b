// core/crypto: recipients parsing and fingerprints, identities, and age streams (round trip,
// a wrong identity refused at the header, a changed payload refused), plus the `.age` names.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  Decrypter,
  Encrypter,
  generateHybridIdentity,
  generateIdentity,
  identityToRecipient,
} from 'age-encryption';
import {
  DecryptionError,
  WrongIdentityError,
  decryptingStream,
  encryptingStream,
} from '../../core/crypto/age-stream.js';
import { fingerprintsOf, identitiesFromSetting, parseIdentities } from '../../core/crypto/identities.js';
import { parseRecipients, recipientFingerprint, secretKeysIn } from '../../core/crypto/recipients.js';
import { backupFileName, bundleFileName } from '../../common/naming.js';
import { checkBackupFile, checkCompanionFile, ValidationError } from '../../common/validate.js';
import { parseBackupMetadataInput } from '../../common/record-input.js';

async function keyPair(hybrid = false): Promise<{ identity: string; recipient: string }> {
  const identity = hybrid ? await generateHybridIdentity() : await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

async function encrypt(plaintext: Buffer, recipients: string[]): Promise<Buffer> {
  const encrypter = await encryptingStream(recipients);
  const out = buffer(encrypter);
  Readable.from([plaintext.subarray(0, 1000), plaintext.subarray(1000)]).pipe(encrypter);
  return out;
}

const decrypt = async (ciphertext: Buffer, identities: string[]): Promise<Buffer> =>
  buffer(await decryptingStream(Readable.from([ciphertext]), identities));

describe('parseRecipients', () => {
  test('one a line, comments and blank lines skipped, duplicates once; hybrid recipients too', async () => {
    const a = await keyPair();
    const b = await keyPair(true);
    expect(
      parseRecipients(`# team\n${a.recipient}\n\n  ${b.recipient}  # escrow\n${a.recipient}\n`, 'r'),
    ).toEqual([a.recipient, b.recipient]);
  });

  test('a bad line is named by its number', async () => {
    const a = await keyPair();
    expect(() => parseRecipients(`${a.recipient}\nage1notakey`, 'encryption-recipients')).toThrow(
      'Invalid encryption-recipients (line 2): must be an age recipient',
    );
    // A changed character fails the bech32 checksum.
    const broken = a.recipient.slice(0, -1) + (a.recipient.endsWith('q') ? 'p' : 'q');
    expect(() => parseRecipients(broken, 'x')).toThrow(ValidationError);
    expect(() => parseRecipients('# nothing\n', 'x')).toThrow('must list at least one age recipient');
  });

  test('a secret key is refused as one, without echoing it, and found for masking', async () => {
    const a = await keyPair();
    const text = `${a.recipient}\n${a.identity}\n`;
    let message = '';
    try {
      parseRecipients(text, 'encryption-recipients');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid encryption-recipients \(line 2\): is a secret key/);
    expect(message).not.toContain(a.identity.slice(16));
    expect(secretKeysIn(text)).toEqual([a.identity]);
    expect(secretKeysIn(a.recipient)).toEqual([]);
  });

  test('fingerprints: 16 hex digits of the SHA-256 of the recipient, distinct per recipient', async () => {
    const a = await keyPair();
    const b = await keyPair();
    expect(recipientFingerprint(a.recipient)).toMatch(/^[0-9a-f]{16}$/);
    expect(recipientFingerprint(a.recipient)).not.toBe(recipientFingerprint(b.recipient));
    expect(await fingerprintsOf([a.identity])).toEqual([recipientFingerprint(a.recipient)]);
  });
});

describe('identities', () => {
  test('age-keygen files parse; text or a path; bad lines named without their text', async () => {
    const a = await keyPair();
    const file = `# created: 2025-01-01T00:00:00Z\n# public key: ${a.recipient}\n${a.identity}\n`;
    expect(parseIdentities(file, 'key.txt')).toEqual([a.identity]);
    expect(identitiesFromSetting(file, 'R2_BACKUP_IDENTITY')).toEqual([a.identity]);
    expect(() => identitiesFromSetting('/nonexistent/key.txt', 'R2_BACKUP_IDENTITY')).toThrow(
      'cannot read the identity file',
    );
    expect(() => parseIdentities(`${a.identity}X\n`, 'key.txt')).toThrow(
      /^key.txt \(line 1\) is not an age identity/,
    );
    expect(() => parseIdentities(a.recipient, 'key.txt')).not.toThrow(new RegExp(a.recipient));
  });
});

describe('age streams', () => {
  const plaintext = randomBytes(3 * 64 * 1024 + 123);

  test('round trip; with two recipients either identity decrypts', async () => {
    const a = await keyPair();
    const b = await keyPair(true);
    const ciphertext = await encrypt(plaintext, [a.recipient, b.recipient]);
    expect(ciphertext.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(ciphertext.includes(plaintext.subarray(0, 64))).toBe(false);
    expect((await decrypt(ciphertext, [a.identity])).equals(plaintext)).toBe(true);
    expect((await decrypt(ciphertext, [b.identity])).equals(plaintext)).toBe(true);
  });

  test('interoperable with age-encryption itself both ways, at chunk boundaries and empty', async () => {
    const a = await keyPair();
    for (const size of [0, 1, 64 * 1024, 2 * 64 * 1024, 2 * 64 * 1024 + 1]) {
      const data = randomBytes(size);
      const ours = await encrypt(data, [a.recipient]);
      const decrypter = new Decrypter();
      decrypter.addIdentity(a.identity);
      expect(Buffer.from(await decrypter.decrypt(new Uint8Array(ours))).equals(data)).toBe(true);
      const encrypter = new Encrypter();
      encrypter.addRecipient(a.recipient);
      const theirs = Buffer.from(await encrypter.encrypt(new Uint8Array(data)));
      expect(theirs.length).toBe(ours.length);
      expect((await decrypt(theirs, [a.identity])).equals(data)).toBe(true);
    }
  });

  test('a wrong identity is refused at the header, before any payload', async () => {
    const a = await keyPair();
    const other = await keyPair();
    const ciphertext = await encrypt(plaintext, [a.recipient]);
    await expect(decryptingStream(Readable.from([ciphertext]), [other.identity])).rejects.toThrow(
      WrongIdentityError,
    );
  });

  test('a flipped payload byte, or a cut-off end, fails the authentication', async () => {
    const a = await keyPair();
    const ciphertext = await encrypt(plaintext, [a.recipient]);
    const flipped = Buffer.from(ciphertext);
    flipped[flipped.length - 70_000]! ^= 1;
    await expect(decrypt(flipped, [a.identity])).rejects.toThrow(DecryptionError);
    await expect(decrypt(ciphertext.subarray(0, ciphertext.length - 100), [a.identity])).rejects.toThrow(
      DecryptionError,
    );
  });
});

describe('.age names and records', () => {
  test('archive and bundle names carry .age; parsing says encrypted', () => {
    const file = backupFileName('20250101-120000', 'zstd', 2, true);
    expect(file).toBe('20250101-120000-2.tar.zst.age');
    expect(bundleFileName(file)).toBe('20250101-120000-2.bundle.age');
    expect(bundleFileName('20250101-120000.tar.gz')).toBe('20250101-120000.bundle');
    expect(checkBackupFile(file, 't')).toEqual({
      stamp: '20250101-120000-2',
      extension: '.tar.zst.age',
      compression: 'zstd',
      encrypted: true,
    });
    expect(checkBackupFile('20250101-120000.tar', 't').encrypted).toBe(false);
    expect(checkCompanionFile('20250101-120000.bundle.age', 't')).toEqual({
      kind: 'bundle',
      encrypted: true,
    });
    expect(checkCompanionFile('20250101-120000.wiki.bundle', 't')).toEqual({
      kind: 'wiki',
      encrypted: false,
    });
    expect(() => checkBackupFile('20250101-120000.tar.age.gz', 't')).toThrow(ValidationError);
  });

  test('a record is encrypted, with fingerprints, exactly when its name ends with .age', () => {
    const base = {
      tenant: 't',
      repo: 'o/r',
      branch: 'main',
      commit: 'a'.repeat(40),
      action: 'upload',
    };
    const fingerprint = '0123456789abcdef';
    const parsed = parseBackupMetadataInput({
      ...base,
      backup_file: '20250101-120000.tar.gz.age',
      encrypted: true,
      recipients: [fingerprint],
    });
    expect(parsed).toMatchObject({ encrypted: true, recipients: [fingerprint] });
    expect(() => parseBackupMetadataInput({ ...base, backup_file: '20250101-120000.tar.gz.age' })).toThrow(
      'Invalid encrypted: must be true',
    );
    expect(() =>
      parseBackupMetadataInput({ ...base, backup_file: '20250101-120000.tar.gz', encrypted: true }),
    ).toThrow('Invalid encrypted');
    expect(() =>
      parseBackupMetadataInput({
        ...base,
        backup_file: '20250101-120000.tar.gz.age',
        encrypted: true,
        recipients: ['age1notafingerprint'],
      }),
    ).toThrow('Invalid recipients');
  });
});
