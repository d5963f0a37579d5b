// age files as Node streams. The header (each recipient's stanza: X25519 or the post-quantum
// hybrid, and the header's MAC) is made and checked by age-encryption, the reference
// TypeScript implementation; the payload, age's STREAM of ChaCha20-Poly1305 chunks of 64 KiB,
// is encrypted here with node:crypto's native ChaCha20-Poly1305: measured several times
// faster than the package's pure-JS cipher (the backup's throughput depends on it).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { Decrypter, Encrypter, type Recipient } from 'age-encryption';

/** The age file could not be read with the given identities, or failed its authentication. */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

/** None of the identities is a recipient of the file: found in its header, before any payload. */
export class WrongIdentityError extends DecryptionError {
  override name = 'WrongIdentityError';
}

const CHUNK = 64 * 1024;
const TAG = 16;
const NONCE = 16;
/** 20 post-quantum stanzas are about 40 KiB; a "header" past this is no age file. */
const MAX_HEADER = 1024 * 1024;

/** The payload key of age's spec: HKDF-SHA-256(file key, nonce, "payload"). */
const payloadKey = (fileKey: Uint8Array, nonce: Uint8Array): Buffer =>
  Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));

/** STREAM's per-chunk nonce: an 11-byte big-endian counter, then 1 for the last chunk. */
function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** The header for `recipients` and the file key it wraps, made by age-encryption: it encrypts
 *  an empty file, and each of its own recipient objects is wrapped to see the key it wraps. */
async function makeHeader(
  recipients: readonly string[],
): Promise<{ header: Uint8Array; fileKey: Uint8Array }> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  const own = (encrypter as unknown as { recipients: Recipient[] }).recipients.splice(0);
  if (own.length !== recipients.length)
    throw new Error('age-encryption changed: its recipients are not where they were');
  let fileKey: Uint8Array | undefined;
  for (const recipient of own) {
    encrypter.addRecipient({
      wrapFileKey: (key: Uint8Array) => {
        fileKey = key;
        return recipient.wrapFileKey(key);
      },
    });
  }
  const empty = await encrypter.encrypt(new Uint8Array(0));
  if (!fileKey) throw new Error('age-encryption wrapped no file key');
  // An empty file is the header, the 16-byte nonce and one empty chunk (its 16-byte tag).
  return { header: empty.subarray(0, empty.length - NONCE - TAG), fileKey };
}

/** A Transform that takes plaintext and gives the age file for `recipients` (header first). */
export async function encryptingStream(recipients: readonly string[]): Promise<Transform> {
  const { header, fileKey } = await makeHeader(recipients);
  const nonce = randomBytes(NONCE);
  const key = payloadKey(fileKey, nonce);
  let counter = 0;
  let held: Buffer[] = [];
  let heldBytes = 0;
  const seal = (plaintext: Buffer, last: boolean): Buffer => {
    const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(counter++, last), {
      authTagLength: TAG,
    });
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  };
  const take = (bytes: number): Buffer => {
    const all = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
    held = all.length > bytes ? [all.subarray(bytes)] : [];
    heldBytes -= bytes;
    return all.subarray(0, bytes);
  };
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        if (!started) {
          started = true;
          this.push(Buffer.concat([header, nonce]));
        }
        held.push(chunk);
        heldBytes += chunk.length;
        // A full chunk goes out only once more follows: the last chunk is flagged as such.
        while (heldBytes > CHUNK) this.push(seal(take(CHUNK), false));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        if (!started) this.push(Buffer.concat([header, nonce]));
        callback(null, seal(take(heldBytes), true));
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/** Reads from `next` until the header's MAC line ends; returns the header and what followed. */
async function readHeader(
  next: () => Promise<IteratorResult<Buffer>>,
): Promise<{ header: Buffer; rest: Buffer }> {
  let buffered = Buffer.alloc(0);
  for (;;) {
    const macLine = buffered.indexOf('\n---');
    const end = macLine < 0 ? -1 : buffered.indexOf('\n', macLine + 1);
    if (end >= 0) return { header: buffered.subarray(0, end + 1), rest: buffered.subarray(end + 1) };
    if (buffered.length > MAX_HEADER)
      throw new DecryptionError('not an age file (no header end in the first MiB)');
    const { done, value } = await next();
    if (done) throw new DecryptionError('not an age file (it ends inside its header)');
    buffered = Buffer.concat([buffered, value]);
  }
}

/**
 * The plaintext of the age file `source`. Resolves once the header is read and checked: with no
 * matching identity (WrongIdentityError) or a broken header it rejects before any payload is
 * decrypted. A payload that fails its authentication (a changed or truncated file) errors the
 * returned stream with a DecryptionError, at the chunk that fails.
 */
export async function decryptingStream(source: Readable, identities: readonly string[]): Promise<Readable> {
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const next = () => iterator.next();
  let fileKey: Uint8Array;
  let rest: Buffer;
  try {
    const read = await readHeader(next);
    rest = read.rest;
    fileKey = await decrypter.decryptHeader(read.header);
  } catch (error) {
    source.destroy();
    if (error instanceof DecryptionError) throw error;
    const message = (error as Error).message;
    if (/no identity matched/.test(message)) throw new WrongIdentityError(message);
    if (/^(invalid|unexpected|unrecognized)/i.test(message))
      throw new DecryptionError(`not a readable age file (${message})`);
    throw error; // the source's own failure
  }
  const corrupt = (why: string) =>
    new DecryptionError(
      `the encrypted payload failed its authentication (${why}): it was changed or cut short after it was encrypted`,
    );
  async function* plaintext(): AsyncGenerator<Buffer> {
    let buffered = rest;
    let done = false;
    while (buffered.length < NONCE && !done) {
      const step = await next();
      if (step.done) done = true;
      else buffered = Buffer.concat([buffered, step.value]);
    }
    if (buffered.length < NONCE) throw corrupt('no payload nonce');
    const key = payloadKey(fileKey, buffered.subarray(0, NONCE));
    buffered = buffered.subarray(NONCE);
    let counter = 0;
    const open = (sealed: Buffer, last: boolean): Buffer => {
      if (sealed.length < TAG) throw corrupt('a chunk shorter than its tag');
      const decipher = createDecipheriv('chacha20-poly1305', key, chunkNonce(counter++, last), {
        authTagLength: TAG,
      });
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
      try {
        return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()]);
      } catch {
        throw corrupt(`chunk ${counter - 1}`);
      }
    };
    for (;;) {
      let offset = 0;
      const out: Buffer[] = [];
      while (buffered.length - offset > CHUNK + TAG) {
        out.push(open(buffered.subarray(offset, offset + CHUNK + TAG), false));
        offset += CHUNK + TAG;
      }
      buffered = buffered.subarray(offset);
      if (out.length > 0) yield out.length === 1 ? out[0]! : Buffer.concat(out);
      if (done) break;
      const step = await next();
      if (step.done) done = true;
      else buffered = buffered.length === 0 ? step.value : Buffer.concat([buffered, step.value]);
    }
    const last = open(buffered, true);
    if (last.length === 0 && counter > 1) throw corrupt('an empty last chunk');
    if (last.length > 0) yield last;
  }
  return Readable.from(plaintext(), { objectMode: false });
}
