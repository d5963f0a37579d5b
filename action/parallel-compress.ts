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
// trip between the thread pool and the main thread; and a zstd context made per block
// allocates its window and tables each time, memory that V8 counts and collects for.
import { cpus } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { constants, createZstdCompress, gzip } from 'node:zlib';

/** Compresses one block into one self-contained gzip member or zstd frame. */
export interface BlockCompressor {
  compress(block: Buffer): Promise<Buffer>;
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

/** More than a block can grow by (gzip's deflateBound is smaller). */
const outputBound = (size: number): number => size + (size >> 7) + 4096;

/**
 * gzip members, one zlib call per block. The output chunk is as large as the block's bound, so
 * that a member is one round trip to the thread pool (measured: the main thread's time in
 * zlib's callbacks went from 2.0 s to 0.8 s), then copied out of that mostly empty chunk so
 * that what waits for the upload holds only its own bytes.
 */
export function gzipBlocks(level = 6): BlockCompressor {
  return {
    compress: (block) =>
      new Promise((resolve, reject) =>
        gzip(block, { level, chunkSize: outputBound(block.length) }, (error, out) =>
          error ? reject(error) : resolve(out.length < out.buffer.byteLength / 2 ? Buffer.from(out) : out),
        ),
      ),
    close: () => {},
  };
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * zstd frames from a few long-lived contexts ("lanes") used in turn, so that windows and
 * tables are allocated once, not per block (measured: ~30 MiB less peak memory, and less time
 * in V8's collector, than a zstdCompress() per block). Each block is written and flushed with
 * ZSTD_e_end, which ends its frame; the lane's next write starts a new one.
 */
export function zstdLanes(lanes: number, level = 3, chunkSize = 1 << 20): BlockCompressor {
  const params = { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: 1 };
  const all = Array.from({ length: lanes }, () => {
    const lane = {
      stream: createZstdCompress({ params, chunkSize }),
      output: [] as Buffer[],
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
      if (closed) return Promise.reject(new Error('the zstd compressor is closed'));
      const lane = all[next]!;
      next = (next + 1) % lanes;
      return new Promise((resolve, reject) => {
        lane.stream.write(block);
        lane.stream.flush(constants.ZSTD_e_end, (error?: Error | null) => {
          const frame = lane.output.length === 1 ? lane.output[0]! : Buffer.concat(lane.output);
          lane.output = [];
          if (error || lane.error) return reject(error ?? lane.error);
          // Frame boundaries are what this relies on: output that came late would start mid-frame.
          if (frame.length < 4 || frame.readUInt32LE(0) !== ZSTD_MAGIC) {
            return reject(new Error('zstd compression lost a frame boundary'));
          }
          resolve(frame);
        });
      });
    },
    close: () => {
      closed = true;
      for (const lane of all) lane.stream.destroy();
    },
  };
}

export class ParallelCompressStream extends Transform {
  private readonly compressor: BlockCompressor;
  private readonly blockSize: number;
  private readonly maxInFlight: number;
  private readonly release?: (block: Buffer) => void;
  private readonly inFlight: Promise<Buffer>[] = [];
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
      this.push(out);
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
