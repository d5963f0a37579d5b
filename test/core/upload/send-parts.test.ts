// core/upload/send-parts.ts: parts sent a few at a time, answered in order, stopped on a failure.
import { Readable } from 'node:stream';
import { sendParts } from '../../../core/upload/send-parts.js';

/** A source of `count` chunks of `size` bytes, chunk i filled with i; counts reads. */
function numberedSource(count: number, size: number) {
  let i = 0;
  return new Readable({
    read() {
      this.push(i < count ? Buffer.alloc(size, i++) : null);
    },
  });
}

/** One turn of the event loop: a part that takes some time, without a clock. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('sendParts: parts in order, at most `parallel` in flight, part buffers reused', async () => {
  let inFlight = 0;
  let most = 0;
  const buffers = new Set<ArrayBufferLike>();
  const seen: number[] = [];
  // Parts are answered when three wait (or the last came), newest first: later parts finish
  // first, and the answer must still be in part order.
  const waiting: (() => void)[] = [];
  const sent = await sendParts(numberedSource(40, 64), 64, 3, async (part) => {
    buffers.add(part.data.buffer);
    expect(part.data).toEqual(Buffer.alloc(64, part.number - 1));
    inFlight++;
    most = Math.max(most, inFlight);
    const answered = new Promise<void>((resolve) => waiting.push(resolve));
    if (waiting.length === 3 || part.last) for (const answer of waiting.splice(0).reverse()) answer();
    await answered;
    inFlight--;
    seen.push(part.number);
    return `etag-${part.number}`;
  });
  expect(sent).toEqual(Array.from({ length: 40 }, (_, i) => ({ number: i + 1, etag: `etag-${i + 1}` })));
  expect(seen).not.toEqual([...seen].sort((a, b) => a - b));
  expect(most).toBe(3);
  // The parts in flight plus the one being filled.
  expect(buffers.size).toBeLessThanOrEqual(4);
});

test('sendParts: a failed part stops the body, waits for the parts in flight and rethrows', async () => {
  const body = numberedSource(1000, 64);
  let settled = 0;
  let started = 0;
  const sending = sendParts(body, 64, 3, async (part) => {
    started++;
    await turn();
    settled++;
    if (part.number === 4) throw new Error('part 4 refused');
    return 'etag';
  });
  await expect(sending).rejects.toThrow('part 4 refused');
  expect(settled).toBe(started);
  expect(started).toBeLessThan(10);
  expect(body.destroyed).toBe(true);
});

test('sendParts: a failing body rethrows its error after the parts in flight', async () => {
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent++ < 5) this.push(Buffer.alloc(64));
      else this.destroy(new Error('disk on fire'));
    },
  });
  let started = 0;
  let answered = 0;
  await expect(
    sendParts(body, 64, 2, async () => {
      started++;
      await turn();
      answered++;
      return 'etag';
    }),
  ).rejects.toThrow('disk on fire');
  expect(started).toBeGreaterThan(0);
  expect(answered).toBe(started);
});
