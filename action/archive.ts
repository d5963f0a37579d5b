// THROWAWAY stand-in for the archive helper's module (same contract); replaced by main's on merge.
import { readdirSync, type Stats } from 'node:fs';
import { PassThrough, Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, createZstdCompress } from 'node:zlib';
import { create } from 'tar';
import type { Compression } from '../common/validate.js';

export const DEFAULT_EXCLUDES = ['.git', 'node_modules', '.next', 'dist', 'build', '.cache'];
export interface ArchiveProgress {
  files: number;
  bytesIn: number;
}
export interface ArchiveOptions {
  root: string;
  excludes: string[];
  compression: Compression;
  onProgress?: (p: ArchiveProgress) => void;
}
export interface ArchiveResult {
  fileCount: number;
  bytesIn: number;
}

const compressor = (c: Compression): Transform =>
  c === 'gzip' ? createGzip() : c === 'zstd' ? createZstdCompress() : new PassThrough();

export function createArchiveStream(options: ArchiveOptions): {
  stream: Readable;
  result: Promise<ArchiveResult>;
} {
  const progress = { files: 0, bytesIn: 0 };
  let last = 0;
  const excluded = (path: string): boolean => path.split('/').some((part) => options.excludes.includes(part));
  const entries = readdirSync(options.root).filter((name) => !excluded(name));
  const pack = create(
    {
      cwd: options.root,
      filter: (path: string, entry: Stats | object) => {
        const stat = entry as Stats;
        if (excluded(path)) return false;
        if (!stat.isDirectory()) progress.files++;
        if (stat.isFile()) progress.bytesIn += stat.size;
        if (options.onProgress && Date.now() - last > 1000) {
          last = Date.now();
          options.onProgress({ ...progress });
        }
        return true;
      },
    },
    entries,
  );
  const output = compressor(options.compression);
  const result = pipeline(Readable.from(pack as AsyncIterable<Buffer>), output)
    .then(() => ({ fileCount: progress.files, bytesIn: progress.bytesIn }))
    .catch((error: unknown) => {
      output.destroy(error as Error);
      throw error;
    });
  return { stream: output, result };
}
