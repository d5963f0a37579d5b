// An object's SHA-256 and size, read as a stream (never whole in memory): what `verify --deep`
// compares with a record, and what the repair records for an archive whose metadata has none.
import { createHash } from 'node:crypto';
import { openObject, type ArchiveSource } from './object-source.js';

export async function hashObject(
  source: ArchiveSource,
  bucket: string,
  key: string,
  /** Called after each chunk with the bytes read so far, for a progress line. */
  onBytes?: (bytes: number) => void,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of (await openObject(source, bucket, key)).body) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    onBytes?.(size);
  }
  return { sha256: hash.digest('hex'), size };
}
