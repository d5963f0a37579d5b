// Cuts a byte stream into numbered parts of exactly `size` bytes (the last may be shorter); R2
// requires equal parts. A full part is handed over once the next byte arrives, so every part
// says whether it is the last: a body shorter than one part can go in a single request. Part
// buffers come from `allocate`, so a caller can reuse the buffers of parts it has sent.
import type { Readable } from 'node:stream';

export interface Part {
  /** 1, 2, ... */
  number: number;
  data: Buffer;
  last: boolean;
}

export async function* equalParts(
  source: Readable,
  size: number,
  allocate: () => Buffer = () => Buffer.allocUnsafe(size),
): AsyncGenerator<Part> {
  let number = 0;
  let part: Buffer | undefined;
  let filled = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      if (!part) part = allocate();
      else if (filled === size) {
        yield { number: ++number, data: part, last: false };
        part = allocate();
        filled = 0;
      }
      const n = Math.min(size - filled, chunk.length - offset);
      chunk.copy(part, filled, offset, offset + n);
      filled += n;
      offset += n;
    }
  }
  // An empty source is one empty part.
  yield { number: ++number, data: part ? part.subarray(0, filled) : Buffer.alloc(0), last: true };
}
