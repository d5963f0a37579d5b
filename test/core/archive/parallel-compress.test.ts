// The block compressors against the reference tools: the concatenated members and frames must
// decompress with `gunzip` and `zstd -d` to exactly the input, in order, whatever the lanes.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  ParallelCompressStream,
  gzipLanes,
  zstdLanes,
  type BlockCompressor,
} from '../../../core/archive/parallel-compress.js';

const BLOCK = 256 * 1024;

/** Many blocks that differ (so that a frame given to the wrong place would show), text and noise. */
function input(blocks: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < blocks; i++) {
    parts.push(Buffer.from(`block ${i} `.repeat(BLOCK / 16)).subarray(0, BLOCK / 2));
    parts.push(randomBytes(BLOCK / 2 - 7)); // uneven, so that blocks straddle the writes
  }
  return Buffer.concat(parts);
}

async function compress(data: Buffer, compressor: BlockCompressor, maxInFlight: number) {
  // Written in 100 KiB chunks, as the tar producer's blocks would not line up with ours.
  const chunks = [];
  for (let at = 0; at < data.length; at += 100_000) chunks.push(data.subarray(at, at + 100_000));
  return buffer(
    Readable.from(chunks).pipe(new ParallelCompressStream({ compressor, blockSize: BLOCK, maxInFlight })),
  );
}

test.each([1, 3])('zstd lanes (%i): frames in input order that zstd -d reads back exactly', async (lanes) => {
  const data = input(40);
  const out = await compress(data, zstdLanes(lanes), lanes);
  expect(execFileSync('zstd', ['-d', '-c'], { input: out, maxBuffer: 1 << 26 }).equals(data)).toBe(true);
  // One frame per block: each lane was reused many times.
  const file = join(mkdtempSync(join(tmpdir(), 'lanes-')), 'out.zst');
  writeFileSync(file, out);
  const listing = execFileSync('zstd', ['-l', '-v', file], { encoding: 'utf8' });
  rmSync(dirname(file), { recursive: true });
  expect(Number(/# Zstandard Frames: *(\d+)/.exec(listing)?.[1])).toBe(Math.ceil(data.length / BLOCK));
});

test.each([1, 4])('gzip lanes (%i): members in input order that gunzip reads back exactly', async (lanes) => {
  const data = input(20);
  const out = await compress(data, gzipLanes(lanes, 5), lanes);
  expect(execFileSync('gunzip', ['-c'], { input: out, maxBuffer: 1 << 26 }).equals(data)).toBe(true);
});

test('a stream destroyed half way closes its lanes and compresses nothing more', async () => {
  const compressor = zstdLanes(2);
  let closed = 0;
  const close = compressor.close;
  compressor.close = () => {
    closed++;
    close();
  };
  const stream = new ParallelCompressStream({ compressor, blockSize: BLOCK, maxInFlight: 2 });
  stream.on('error', () => {});
  stream.write(randomBytes(BLOCK * 3));
  stream.destroy(new Error('cancelled'));
  await new Promise((resolve) => stream.once('close', resolve));
  expect(closed).toBe(1);
  await expect(compressor.compress(Buffer.alloc(10))).rejects.toThrow();
});

test('more blocks in flight than lanes is refused, not interleaved', async () => {
  const compressor = zstdLanes(1);
  const first = compressor.compress(randomBytes(BLOCK));
  await expect(compressor.compress(randomBytes(BLOCK))).rejects.toThrow(
    /more zstd blocks in flight than lanes/,
  );
  await first;
  compressor.close();
});

test.each(['gzip', 'zstd'])(
  '%s: closing while a block compresses rejects it, without crashing',
  async (name) => {
    const compressor = name === 'gzip' ? gzipLanes(2) : zstdLanes(2);
    const pending = [compressor.compress(randomBytes(BLOCK)), compressor.compress(randomBytes(BLOCK))];
    compressor.close();
    await Promise.all(pending.map((job) => expect(job).rejects.toThrow()));
  },
);

test('every zstd frame keeps the level and the content checksum, not only the first', async () => {
  const blocks = [0, 1, 2, 3].map((i) =>
    Buffer.from(`line ${i} of a text that compresses well\n`.repeat(8000)),
  );
  const frames = async (level: number) => {
    const compressor = zstdLanes(1, level);
    const out = [];
    for (const block of blocks) out.push(Buffer.concat(await compressor.compress(block)));
    compressor.close();
    return out;
  };
  const [fast, strong] = [await frames(1), await frames(19)];
  for (const frame of [...fast, ...strong]) expect(frame[4]! & 0x04).toBe(0x04); // Content_Checksum_flag
  for (let i = 0; i < blocks.length; i++) expect(strong[i]!.length).toBeLessThan(fast[i]!.length);
});

test('every gzip member keeps the level, not only the first', async () => {
  const data = input(4);
  const members = async (level: number) => {
    const compressor = gzipLanes(1, level);
    const out = [];
    for (let at = 0; at < data.length; at += BLOCK)
      out.push(Buffer.concat(await compressor.compress(data.subarray(at, at + BLOCK))));
    compressor.close();
    return out;
  };
  const [fast, strong] = [await members(1), await members(9)];
  for (let i = 0; i < fast.length; i++) expect(strong[i]!.length).toBeLessThan(fast[i]!.length);
});

/** The window a zstd frame declares (RFC 8878 3.1.1.1): its content size when it is one segment. */
function frameWindow(frame: Buffer): number {
  const descriptor = frame[4]!;
  if (descriptor & 0x20) return Infinity; // Single_Segment_flag: the window is the whole content
  const window = frame[5]!;
  const base = 2 ** (10 + (window >> 3));
  return base + (base / 8) * (window & 7);
}

test('a zstd frame given the frame size has a window that holds all of it', async () => {
  const frameSize = 2 * 1024 * 1024; // more than level 2's own 1 MiB window
  const compressor = zstdLanes(1, 2, frameSize);
  const blocks = [0, 1, 2].map(() => Buffer.concat([input(4), input(4)]).subarray(0, frameSize));
  const frames = [];
  for (const block of blocks) frames.push(Buffer.concat(await compressor.compress(block)));
  compressor.close();
  for (const frame of frames) expect(frameWindow(frame)).toBeGreaterThanOrEqual(frameSize);
  const all = Buffer.concat(frames);
  expect(
    execFileSync('zstd', ['-d', '-c'], { input: all, maxBuffer: 1 << 26 }).equals(Buffer.concat(blocks)),
  ).toBe(true);
});
