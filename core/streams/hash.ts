// A pass-through stage that records the SHA-256 and the byte count of what flows through it:
// the archive's digest and size, computed while it streams to R2, with no second read.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface StreamDigest {
  sha256: string;
  size: number;
}

export function createHashCounter(): { transform: Transform; digest(): StreamDigest } {
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | undefined;
  const transform = new Transform({
    // Chunks leave as they came. A byte-mode readable consumed by for-await (as the uploads
    // do) joins everything it has buffered into a new Buffer on each read: measured, 46 MiB
    // of such copies for a 140 MiB archive, garbage that raised the peak memory.
    readableObjectMode: true,
    readableHighWaterMark: 4,
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  return {
    transform,
    digest() {
      // digest() may be read more than once; a Hash can be finalised only once.
      sha256 ??= hash.digest('hex');
      return { sha256, size };
    },
  };
}
