// Compresses a byte stream on several threads: the input is cut into blocks, each block is
// compressed on its own with zlib's async API (libuv's thread pool), and the results are
// emitted in input order. Concatenated gzip members are one valid gzip stream (RFC 1952;
// `gunzip`, `tar -xzf` and Node's gunzip read them all) and concatenated zstd frames are
// one valid zstd stream. This is how pigz and `zstd -T` use several cores.
//
// Why not zstd's own workers: Node 24's createZstdCompress accepts ZSTD_c_nbWorkers but its
// stream then fails ("stream.push() after EOF", checked with Node 24.21 / zstd 1.5.7).
//
// Costs that were measured on the bench corpus (525 MiB, 20,000 files) and shaped this file:
// zlib hands its output over in chunks of `chunkSize` (16 KiB by default), each one more round
// trip between the thread pool and the main thread (1 MiB chunks took the main thread's time
// in zlib's callbacks from 1.4 s to 0.5 s for zstd, 2.0 s to 0.8 s for gzip); and a zlib call
// per block allocates a compressor and its output each time, memory that V8 counts and
// collects for.
import { cpus } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import {
  constants,
  createGzip,
  createZstdCompress,
  type Gzip,
  type ZlibReset,
  type ZstdCompress,
} from 'node:zlib';

/** Compresses one block into one self-contained gzip member or zstd frame. */
export interface BlockCompressor {
  /** The member's bytes, in the chunks zlib emitted them (not joined: a copy per member would
   *  be garbage at the output's rate). */
  compress(block: Buffer): Promise<Buffer[]>;
  /** Frees what the compressor holds; called once the stream has ended or failed. */
  close(): void;
}

export interface ParallelCompressOptions {
  compressor: BlockCompressor;
  /** Bytes per independently compressed block. */
  blockSize: number;
  /** Blocks being compressed or waiting to be emitted at once; bounds memory. */
  maxInFlight?: number;
  /** Receives each input chunk of exactly blockSize bytes once it is compressed, for reuse. */
  release?: (block: Buffer) => void;
}

export function defaultParallelism(): number {
  return Math.max(2, Math.min(8, cpus().length * 2));
}

/** One stream per lane; what ends a block's member or frame, and how that output begins. */
interface LaneKind {
  name: string;
  create: () => Gzip | ZstdCompress;
  endFlush: number;
  /** gzip needs a reset to start a new member. zstd starts a new frame by itself, and its
   *  reset() would also drop the level and the checksum flag back to the defaults. */
  resetAfterMember: boolean;
  /** Whether these first bytes of an output open a member or frame. */
  startsMember: (head: Buffer) => boolean;
}

/** The first `n` bytes of chunks (zeros past their end). */
const head = (chunks: Buffer[], n: number): Buffer =>
  chunks[0] && chunks[0].length >= n ? chunks[0] : Buffer.concat(chunks, n);

/**
 * Blocks compressed by a few long-lived zlib streams ("lanes") used in turn, so that the
 * compressor's state and output buffer are allocated once, not per block (measured: less time
 * in V8's collector, ~20 MiB less peak memory, ~10% faster gzip). Each block is
 * written, then flushed with the flag that ends its gzip member (and the lane is reset) or
 * its zstd frame. A lane takes one block at a time: at most `lanes` in flight.
 */
function laneCompressor(lanes: number, kind: LaneKind): BlockCompressor {
  const all = Array.from({ length: lanes }, () => {
    const lane = {
      stream: kind.create(),
      output: [] as Buffer[],
      busy: false,
      error: undefined as Error | undefined,
    };
    // Flowing mode with nothing buffered: zlib emits each chunk when it pushes it, which is
    // before it calls the flush's callback.
    lane.stream.on('data', (chunk: Buffer) => lane.output.push(chunk));
    lane.stream.on('error', (error) => (lane.error = error));
    return lane;
  });
  let next = 0;
  let closed = false;
  return {
    compress: (block) => {
      if (closed) return Promise.reject(new Error(`the ${kind.name} compressor is closed`));
      const lane = all[next]!;
      next = (next + 1) % lanes;
      if (lane.busy) return Promise.reject(new Error(`more ${kind.name} blocks in flight than lanes`));
      lane.busy = true;
      return new Promise((resolve, reject) => {
        lane.stream.write(block);
        lane.stream.flush(kind.endFlush, (error?: Error | null) => {
          const output = lane.output;
          lane.output = [];
          lane.busy = false;
          if (error || lane.error) return reject(error ?? lane.error);
          // Closed while this block was compressing (the stream was destroyed): no reset.
          if (closed) return reject(new Error(`the ${kind.name} compressor is closed`));
          // Member boundaries are what this relies on: output that came late would start mid-member.
          if (!kind.startsMember(head(output, 4)))
            return reject(new Error(`${kind.name} compression lost a member boundary`));
          // Every zlib stream has reset(); @types/node declares it only on some of them.
          if (kind.resetAfterMember) (lane.stream as unknown as ZlibReset).reset();
          resolve(output);
        });
      });
    },
    close: () => {
      closed = true;
      for (const lane of all) lane.stream.destroy();
    },
  };
}

const LANE_CHUNK = 1 << 20;

/** gzip members (RFC 1952), which `gunzip` and `tar -xzf` read as one stream. */
export const gzipLanes = (lanes: number, level = 6): BlockCompressor =>
  laneCompressor(lanes, {
    name: 'gzip',
    create: () => createGzip({ level, chunkSize: LANE_CHUNK }),
    endFlush: constants.Z_FINISH,
    resetAfterMember: true,
    startsMember: (head) => head[0] === 0x1f && head[1] === 0x8b,
  });

const ZSTD_MAGIC = 0xfd2fb528;

/** The smallest window that holds `bytes` (zstd's window is a power of two, 1 KiB at least). */
const windowLogFor = (bytes: number): number => Math.max(10, Math.ceil(Math.log2(bytes)));

/**
 * zstd frames, with their content checksums. Given the largest frame (`frameSize`, the block
 * size), the window holds a whole frame: with a smaller window (level 2's is 1 MiB) zstd wraps
 * its input buffer inside a frame and compresses the rest through its slower path for a
 * non-contiguous window ("extDict"). Measured on the bench corpus' 568 MB tar in 2 MiB frames at
 * level 2: 5% less CPU (2.51 s against 2.65 s) and 0.4% smaller.
 */
export const zstdLanes = (lanes: number, level = 3, frameSize?: number): BlockCompressor =>
  laneCompressor(lanes, {
    name: 'zstd',
    create: () =>
      createZstdCompress({
        params: {
          [constants.ZSTD_c_compressionLevel]: level,
          [constants.ZSTD_c_checksumFlag]: 1,
          ...(frameSize ? { [constants.ZSTD_c_windowLog]: windowLogFor(frameSize) } : {}),
        },
        chunkSize: LANE_CHUNK,
      }),
    endFlush: constants.ZSTD_e_end,
    resetAfterMember: false,
    startsMember: (head) => head.readUInt32LE(0) === ZSTD_MAGIC,
  });

export class ParallelCompressStream extends Transform {
  private readonly compressor: BlockCompressor;
  private readonly blockSize: number;
  private readonly maxInFlight: number;
  private readonly release?: (block: Buffer) => void;
  private readonly inFlight: Promise<Buffer[]>[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(options: ParallelCompressOptions) {
    super({ highWaterMark: options.blockSize });
    this.compressor = options.compressor;
    this.blockSize = options.blockSize;
    this.maxInFlight = options.maxInFlight ?? defaultParallelism();
    this.release = options.release;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.drainFull().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.pendingBytes > 0) this.startBlock(this.takeAll());
    this.emitUntil(0).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.compressor.close();
    callback(error);
  }

  private async drainFull(): Promise<void> {
    while (this.pendingBytes >= this.blockSize) {
      this.startBlock(this.takeBlock());
      // Wait only when the window is full, so that up to maxInFlight blocks compress at once.
      await this.emitUntil(this.maxInFlight - 1);
    }
  }

  private startBlock(block: Buffer): void {
    let job = this.compressor.compress(block);
    // Only a chunk that went to the compressor whole is ours alone once it is compressed.
    const release = this.release;
    if (release && block.length === this.blockSize && block.byteOffset === 0) {
      job = job.then((out) => {
        release(block);
        return out;
      });
    }
    job.catch(() => {}); // handled where it is awaited, in order
    this.inFlight.push(job);
  }

  private async emitUntil(limit: number): Promise<void> {
    while (this.inFlight.length > limit) {
      const out = await this.inFlight[0]!;
      this.inFlight.shift();
      for (const chunk of out) this.push(chunk);
    }
  }

  private takeAll(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }

  private takeBlock(): Buffer {
    const all = this.takeAll();
    if (all.length > this.blockSize) {
      this.pending = [all.subarray(this.blockSize)];
      this.pendingBytes = all.length - this.blockSize;
    }
    return all.subarray(0, this.blockSize);
  }
}
