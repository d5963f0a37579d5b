// age files as Node streams, by age-encryption (the reference TypeScript implementation):
// encryption and decryption go chunk by chunk (64 KiB, ChaCha20-Poly1305), so neither ever
// holds more than a few chunks, and nothing is written to a temporary file.
import { Duplex, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter } from 'age-encryption';

/** The age file could not be read with the given identities, or failed its authentication. */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

/** None of the identities is a recipient of the file: found in its header, before any payload. */
export class WrongIdentityError extends DecryptionError {
  override name = 'WrongIdentityError';
}

/** A Duplex that takes plaintext and gives the age file for `recipients` (header first). */
export async function encryptingStream(recipients: readonly string[]): Promise<Duplex> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  const plaintext = new TransformStream<Uint8Array, Uint8Array>();
  const ciphertext = await encrypter.encrypt(plaintext.readable);
  return Duplex.fromWeb({ readable: ciphertext, writable: plaintext.writable } as never);
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
  let sourceError: unknown;
  source.once('error', (error) => (sourceError = error));
  let plaintext: WebReadableStream<Uint8Array>;
  try {
    plaintext = (await decrypter.decrypt(
      Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>,
    )) as unknown as WebReadableStream<Uint8Array>;
  } catch (error) {
    source.destroy();
    if (sourceError) throw sourceError;
    const message = (error as Error).message;
    if (/no identity matched/.test(message)) throw new WrongIdentityError(message);
    throw new DecryptionError(`not a readable age file (${message})`);
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of plaintext) yield chunk;
    } catch (error) {
      if (sourceError) throw sourceError;
      throw new DecryptionError(
        `the encrypted payload failed its authentication (${(error as Error).message}): it was changed or cut short after it was encrypted`,
      );
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
