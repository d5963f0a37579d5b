// JSON Lines files of the export: written one item at a time (with the stream's backpressure) and
// read one line at a time, so that no kind is ever held in memory whole.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export type Item = Record<string, unknown>;

export class JsonlWriter {
  private readonly stream: WriteStream;
  private closed?: Promise<void>;
  count = 0;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'wx' });
  }

  async write(item: Item): Promise<void> {
    this.count++;
    if (!this.stream.write(`${JSON.stringify(item)}\n`)) await once(this.stream, 'drain');
  }

  /** Ends the file (once: a second call waits for the same end). */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(resolve);
    });
    return this.closed;
  }
}

/** A positive integer key (GitHub's ids and numbers), else undefined. */
export function keyOf(item: Item, field: 'id' | 'number'): number | undefined {
  const key = item[field];
  return typeof key === 'number' && Number.isSafeInteger(key) && key > 0 ? key : undefined;
}

/** The JSON objects of a file, one per line; `skipped` counts the lines that were not objects. */
export async function* readItems(path: string, skipped?: { lines: number }): AsyncGenerator<Item> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) yield value as Item;
    else if (skipped) skipped.lines++;
  }
}
