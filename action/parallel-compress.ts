// Compresses a byte stream on several threads: the input is cut into blocks, each block is
// compressed on its own with zlib's async API (libuv's thread pool), and the results are
// emitted in input order. Concatenated gzip members are one valid gzip stream (RFC 1952;
// `gunzip`, `tar -xzf` and Node's gunzip read them all) and concatenated zstd frames are
// one valid zstd stream. This is how pigz and `zstd -T` use several cores.
//
// Why not zstd's own workers: Node 24's createZstdCompress accepts ZSTD_c_nbWorkers but its
// stream then fails ("stream.push() after EOF", checked with Node 24.21 / zstd 1.5.7).
import { cpus } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { constants, gzip, zstdCompress } from 'node:zlib';

export type BlockCompressor = (block: Buffer) => Promise<Buffer>;

export interface ParallelCompressOptions {
  compress: BlockCompressor;
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

export function gzipBlock(level = 6): BlockCompressor {
  return (block) =>
    new Promise((resolve, reject) => gzip(block, { level }, (e, out) => (e ? reject(e) : resolve(out))));
}

export function zstdBlock(level = 3): BlockCompressor {
  const params = { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: 1 };
  return (block) =>
    new Promise((resolve, reject) =>
      zstdCompress(block, { params }, (e, out) => (e ? reject(e) : resolve(out))),
    );
}

export class ParallelCompressStream extends Transform {
  private readonly compress: BlockCompressor;
  private readonly blockSize: number;
  private readonly maxInFlight: number;
  private readonly release?: (block: Buffer) => void;
  private readonly inFlight: Promise<Buffer>[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(options: ParallelCompressOptions) {
    super({ highWaterMark: options.blockSize });
    this.compress = options.compress;
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

  private async drainFull(): Promise<void> {
    while (this.pendingBytes >= this.blockSize) {
      this.startBlock(this.takeBlock());
      // Wait only when the window is full, so that up to maxInFlight blocks compress at once.
      await this.emitUntil(this.maxInFlight - 1);
    }
  }

  private startBlock(block: Buffer): void {
    let job = this.compress(block);
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
