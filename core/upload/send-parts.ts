// Sends a stream as equal parts, a few in flight at once, through either upload path. The
// buffers of sent parts are filled again, so memory stays at (parts in flight + 1) part
// buffers whatever the body's size, with no allocation per part for the collector to free
// later (lib-storage's per-part Buffer.concat grew the process's heap with the tree's size).
import type { Readable } from 'node:stream';
import { equalParts, type Part } from '../streams/equal-parts.js';

export interface SentPart {
  number: number;
  etag: string;
}

/**
 * Resolves with what `sendPart` answered for each part, in part order. On a failure of the
 * body or of a part it waits for the parts in flight, destroys the body and rethrows.
 */
export async function sendParts(
  body: Readable,
  partSize: number,
  parallel: number,
  sendPart: (part: Part) => Promise<string>,
): Promise<SentPart[]> {
  const sent: SentPart[] = [];
  const inFlight = new Set<Promise<void>>();
  const free: Buffer[] = [];
  const allocate = (): Buffer => free.pop() ?? Buffer.allocUnsafe(partSize);
  let failure: { error: unknown } | undefined;
  try {
    for await (const part of equalParts(body, partSize, allocate)) {
      const sending = sendPart(part)
        .then(
          (etag) => {
            sent.push({ number: part.number, etag });
            if (part.data.length === partSize) free.push(part.data);
          },
          (error: unknown) => void (failure ??= { error }),
        )
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      if (inFlight.size >= parallel) await Promise.race(inFlight);
      if (failure) break;
    }
  } catch (error) {
    failure ??= { error };
  }
  await Promise.all(inFlight);
  if (failure) {
    body.destroy();
    throw failure.error;
  }
  return sent.sort((a, b) => a.number - b.number);
}
