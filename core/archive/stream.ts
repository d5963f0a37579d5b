// The archive stream of a backup: file walk -> tar -> compressor, as one Readable with
// backpressure from the consumer (the hash and the upload) all the way back to the walk.
import { pipeline, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Compression } from '../../common/validate.js';
import { BlockPool } from '../tar/block-pool.js';
import { createExclusion, type ExcludedEntry, type TrackedPaths } from '../tree/excludes.js';
import { ParallelCompressStream, defaultParallelism, gzipLanes, zstdLanes } from './parallel-compress.js';
import { createTarReadable } from '../tar/pack.js';

export const DEFAULT_EXCLUDES = ['.git', 'node_modules', '.next', 'dist', 'build', '.cache'];

export interface ArchiveProgress {
  files: number;
  bytesIn: number;
}

export interface ArchiveOptions {
  /** Directory to archive; entries are relative to it ("./" not prefixed). */
  root: string;
  /** Names/patterns matched at any depth like GNU tar --exclude. */
  excludes: string[];
  /** Paths git tracks: kept although a pattern matches them (for the default excludes). */
  tracked?: TrackedPaths;
  compression: Compression;
  /** Called at most about once a second. */
  onProgress?: (p: ArchiveProgress) => void;
  /** Called for entries left out that tar cannot store (sockets, FIFOs, devices); for debug logs. */
  onSkip?: (relativePath: string, reason: string) => void;
}

export interface ArchiveResult {
  /** Entries that are not directories: files, symlinks and hard links. */
  fileCount: number;
  /** Content bytes of the regular files archived. */
  bytesIn: number;
  /** Entries left out by a pattern (a directory once, not what it holds). */
  excluded: ExcludedEntry[];
  /** Entries a pattern matched but kept, since git tracks them. */
  keptTracked: ExcludedEntry[];
}

const PROGRESS_INTERVAL_MS = 1000;
// gzip: 1 MiB members cost ~1.5% in size against pigz's one stream (measured on the bench
// corpus). zstd: 2 MiB frames from 3 lanes keep both cores busy at ~25 MiB less peak RSS than
// 4 MiB x 4, for ~1.3% more output (measured).
const GZIP_BLOCK = 1 << 20;
// Level 5, not gzip's default 6: on the bench corpus (551 MB tar) gzip -6 took 20.2 s of CPU
// for 151.4 MB, -5 13.9 s for 153.4 MB (+1.4%), -4 10.2 s for 157.7 MB (+4.2%). On two cores
// the compressor is the bottleneck, so -5 buys ~30% of the backup time for ~1.4% of size.
const GZIP_LEVEL = 5;
const ZSTD_BLOCK = 2 << 20;
const ZSTD_LANES = 3;
// Level 2, not zstd's default 3, for the same reason: on the bench corpus (2 MiB frames, one
// core) -3 compressed at 176-208 MB/s to 141.2 MB, -2 at 284 MB/s to 148.0 MB (+4.8%), -1 at
// 306 MB/s to 157.5 MB. In the action -2 used ~1 s less CPU of ~6 for the 525 MiB tree.
const ZSTD_LEVEL = 2;

/** A readable byte stream of the compressed archive; `result` settles when it ends (rejects on
 *  error, and the stream is destroyed with that error). */
export function createArchiveStream(options: ArchiveOptions): {
  stream: Readable;
  result: Promise<ArchiveResult>;
} {
  let lastProgress = Date.now();
  // The tar blocks are the compression blocks, and the compressor hands them back for reuse.
  const pool = new BlockPool(options.compression === 'zstd' ? ZSTD_BLOCK : GZIP_BLOCK);
  const exclusion = createExclusion(options.excludes, options.tracked);
  const tar = createTarReadable({
    root: options.root,
    exclude: exclusion.matcher,
    // With no compressor the consumer keeps the blocks: a pool that never gets them back.
    pool: options.compression === 'none' ? new BlockPool(GZIP_BLOCK, 0) : pool,
    onSkip: options.onSkip,
    onBlock: (counters) => {
      const now = Date.now();
      if (options.onProgress && now - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = now;
        options.onProgress({ files: counters.files, bytesIn: counters.bytesIn });
      }
    },
  });

  let stream: Readable;
  if (options.compression === 'none') stream = tar.stream;
  else {
    const lanes = options.compression === 'gzip' ? defaultParallelism() : ZSTD_LANES;
    const compressor = new ParallelCompressStream({
      compressor:
        options.compression === 'gzip'
          ? gzipLanes(lanes, GZIP_LEVEL)
          : zstdLanes(lanes, ZSTD_LEVEL, ZSTD_BLOCK),
      blockSize: pool.size,
      release: (b) => pool.give(b),
      maxInFlight: lanes,
    });
    // pipeline destroys every stage when one fails or the consumer destroys the output.
    stream = pipeline(tar.stream, compressor, () => {});
  }

  const result = finished(stream).then(() => ({
    fileCount: tar.counters.files,
    bytesIn: tar.counters.bytesIn,
    excluded: exclusion.excluded,
    keptTracked: exclusion.keptTracked,
  }));
  // The stream carries the same error; a caller that awaits only the stream must not crash
  // the process with an unhandled rejection.
  result.catch(() => {});
  return { stream, result };
}
