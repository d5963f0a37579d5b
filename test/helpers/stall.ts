// Waiting for a stream pipeline to stall on its consumer: by the state of its buffers, not by a time.
import type { Readable } from 'node:stream';

/** One turn of the event loop: by then, what a stage does synchronously on being asked for
 *  more (the tar producer's reads, the pipe's writes) is done. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Settles once the consumer's buffer is full: from then on a pipeline with backpressure asks
 *  its stages for nothing more, however fast they are. */
export async function stalled(stream: Readable): Promise<void> {
  while (stream.readableLength < stream.readableHighWaterMark) await turn();
  await turn();
}
