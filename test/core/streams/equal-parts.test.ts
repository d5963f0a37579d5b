// core/streams/equal-parts.ts: a byte stream cut into numbered parts of one size.
import { Readable } from 'node:stream';
import { equalParts } from '../../../core/streams/equal-parts.js';

/** The parts of `chunks` cut by equalParts, copied, with their numbers and last flags. */
async function cut(chunks: Buffer[], size: number) {
  const parts: { number: number; data: Buffer; last: boolean }[] = [];
  for await (const part of equalParts(Readable.from(chunks), size))
    parts.push({ ...part, data: Buffer.from(part.data) });
  return parts;
}

test('equalParts: exact sizes whatever the chunking, numbered, only the last flagged', async () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  const chunks = [data.subarray(0, 7), data.subarray(7, 300), data.subarray(300, 301), data.subarray(301)];
  const parts = await cut(chunks, 128);
  expect(parts.map((p) => p.data.length)).toEqual([128, 128, 128, 128, 128, 128, 128, 104]);
  expect(parts.map((p) => p.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(parts.map((p) => p.last)).toEqual([false, false, false, false, false, false, false, true]);
  expect(Buffer.concat(parts.map((p) => p.data))).toEqual(data);
});

test('equalParts: a body of whole parts ends on a full last part; an empty body is one empty part', async () => {
  const parts = await cut([Buffer.alloc(100, 1), Buffer.alloc(156, 2)], 128);
  expect(parts.map((p) => [p.number, p.data.length, p.last])).toEqual([
    [1, 128, false],
    [2, 128, true],
  ]);
  expect(await cut([], 128)).toEqual([{ number: 1, data: Buffer.alloc(0), last: true }]);
  expect((await cut([Buffer.alloc(5)], 128)).map((p) => [p.data.length, p.last])).toEqual([[5, true]]);
});
