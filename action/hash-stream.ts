// THROWAWAY stand-in for the archive helper's module (same contract); replaced by main's on merge.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export function createHashCounter(): { transform: Transform; digest(): { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  let sha256: string | undefined;
  return { transform, digest: () => ({ sha256: (sha256 ??= hash.digest('hex')), size }) };
}
