// The staged copy of a download, hashed as it is written: once the write under way has ended,
// the digest covers exactly the bytes on disk, so a download cut midway is resumed by appending
// to the file (one open file, one hash, across the attempts), no byte read or hashed twice.
import { closeSync, openSync, write, writev } from 'node:fs';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { StreamDigest } from '../streams/hash.js';

export class StagedFile {
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  /** Bytes written (and hashed) so far: where a resumed download starts. */
  size = 0;
  /** A write that failed (the disk, not the network): never resumed. */
  writeError: Error | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  /** A sink for one attempt: a destroyed stream cannot be reused, the file and hash can. Its
   *  destruction waits for a write under way, so `size` is final once the pipeline settled. */
  sink(): Writable {
    const settle = (done: Promise<void>): Promise<void> => (this.inFlight = done);
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) =>
        void settle(this.append([chunk])).then(() => callback(), callback),
      writev: (chunks, callback) =>
        void settle(this.append(chunks.map((c) => c.chunk as Buffer))).then(() => callback(), callback),
      destroy: (error, callback) =>
        void this.inFlight.then(
          () => callback(error),
          () => callback(error),
        ),
    });
  }

  /** Waits for the last write to end (the pipeline may reject before it did). */
  async settled(): Promise<void> {
    await this.inFlight.catch(() => undefined);
  }

  private append(chunks: Buffer[]): Promise<void> {
    const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const written = new Promise<void>((resolve, reject) => {
      const done = (error: Error | null, count: number): void => {
        if (!error && count !== bytes) error = new Error(`short write: ${count} of ${bytes} bytes`);
        if (error) {
          this.writeError = error;
          return reject(error);
        }
        this.size += bytes;
        resolve();
      };
      // At `size`: each attempt's bytes go right after the last ones written.
      if (chunks.length === 1) write(this.fd, chunks[0]!, 0, bytes, this.size, done);
      else writev(this.fd, chunks, this.size, done);
    });
    // Hashed while the thread pool writes them. A failed write ends the download (never
    // resumed), so a digest ahead of the file is never used.
    for (const chunk of chunks) this.hash.update(chunk);
    return written;
  }

  digest(): StreamDigest {
    return { sha256: this.hash.digest('hex'), size: this.size };
  }

  close(): void {
    closeSync(this.fd);
  }
}
