// Cuts a byte stream into parts of exactly `size` bytes (the last may be shorter); R2 requires
// equal parts. Part buffers come from `allocate`, so a caller can reuse the buffers of parts
// it has sent and keep memory flat.
import type { Readable } from 'node:stream';

export async function* equalParts(
  source: Readable,
  size: number,
  allocate: () => Buffer = () => Buffer.allocUnsafe(size),
): AsyncGenerator<Buffer> {
  let part = allocate();
  let filled = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(size - filled, chunk.length - offset);
      chunk.copy(part, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === size) {
        yield part;
        part = allocate();
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}
