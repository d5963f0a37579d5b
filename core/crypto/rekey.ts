// Rekey: an age file re-encrypted for other recipients, streamed from the stored object into a
// new one (decrypted chunk by chunk, encrypted again with a new file key and header). Anyone
// can encrypt to a public recipient, so age's authentication proves nothing of where a file
// came from: the source must also be the bytes its record names, checked before the new
// object's upload may complete.
import { Transform, type Readable } from 'node:stream';
import { createHashCounter, type StreamDigest } from '../streams/hash.js';
import type { PendingUpload } from '../upload/uploader.js';
import { decryptingStream, encryptingStream } from './age-stream.js';

export class SourceMismatchError extends Error {
  override name = 'SourceMismatchError';
}

export interface RekeyOptions {
  /** The stored age file. */
  source: Readable;
  /** Its size and SHA-256 as its record gives them. */
  expected: StreamDigest;
  identities: readonly string[];
  recipients: readonly string[];
  pending: PendingUpload;
  partSize: number;
  /** The object, for messages. */
  what: string;
}

/** Streams the rekeyed file into `pending`; the digest is of the new, stored bytes. */
export async function rekeyInto(options: RekeyOptions): Promise<StreamDigest> {
  const read = createHashCounter();
  options.source.on('error', (error) => read.transform.destroy(error));
  const plaintext = await decryptingStream(options.source.pipe(read.transform), options.identities);
  const encrypter = await encryptingStream(options.recipients);
  // Ends the new object only if the source was the recorded one (read in full by then: the
  // encrypter flushes after the decrypter has checked the source's last chunk).
  const sourceChecked = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk),
    flush(callback) {
      const { sha256, size } = read.digest();
      const { expected } = options;
      callback(
        sha256 === expected.sha256 && size === expected.size
          ? null
          : new SourceMismatchError(
              `${options.what} does not match its record: read ${size} bytes with SHA-256 ${sha256}, recorded ${expected.size} with ${expected.sha256}. Nothing was stored.`,
            ),
      );
    },
  });
  const written = createHashCounter();
  plaintext.on('error', (error) => encrypter.destroy(error));
  encrypter.on('error', (error) => sourceChecked.destroy(error));
  sourceChecked.on('error', (error) => written.transform.destroy(error));
  const body = plaintext.pipe(encrypter).pipe(sourceChecked).pipe(written.transform);
  try {
    await options.pending.send(body, options.partSize, () => written.digest());
  } catch (error) {
    options.source.destroy();
    await options.pending.abort().catch(() => undefined);
    throw error;
  }
  return written.digest();
}
