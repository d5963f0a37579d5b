// JSON Lines files of the export: written one item at a time (with the stream's backpressure) and
// read one line at a time, so that no kind is ever held in memory whole, nor a line past a cap.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

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

/** No line of an export is longer: a hostile export cannot make a reader hold more. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface JsonLine {
  /** 1-based, counting empty lines too. */
  line: number;
  /** Where the line starts in the file, and its length in bytes (without the newline). */
  offset: number;
  length: number;
  /** The parsed line; undefined when it is not JSON, or longer than MAX_LINE_BYTES (then not
   *  read: its bytes are skipped, never gathered). */
  value: unknown;
  tooLong: boolean;
}

/** The one reader of the export's JSON Lines: every non-empty line with its place, parsed, and
 *  never more than MAX_LINE_BYTES of one line in memory. Callers decide what a bad line means. */
export async function* jsonLines(path: string): AsyncGenerator<JsonLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false; // the line being gathered is too long: its bytes are dropped
  let start = 0;
  let line = 0;
  const finish = (bytes: Buffer | undefined, length: number): JsonLine | undefined => {
    line++;
    const offset = start;
    start += length + 1;
    if (bytes === undefined) return { line, offset, length, value: undefined, tooLong: true };
    const text = bytes.toString('utf8');
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    return { line, offset, length, value, tooLong: false };
  };
  const take = (piece: Buffer): void => {
    pendingBytes += piece.length;
    if (skipping) return;
    if (pendingBytes > MAX_LINE_BYTES) {
      skipping = true;
      pending = [];
    } else pending.push(piece);
  };
  const end = (): JsonLine | undefined => {
    const done = finish(skipping ? undefined : Buffer.concat(pending), pendingBytes);
    pending = [];
    pendingBytes = 0;
    skipping = false;
    return done;
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, from)) {
      take(chunk.subarray(from, newline));
      from = newline + 1;
      const done = end();
      if (done) yield done;
    }
    take(chunk.subarray(from));
  }
  if (pendingBytes > 0) {
    const done = end();
    if (done) yield done;
  }
}

export const isItem = (value: unknown): value is Item =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON objects of a file, one per line; `skipped` counts the lines that were not objects. */
export async function* readItems(path: string, skipped?: { lines: number }): AsyncGenerator<Item> {
  for await (const { value } of jsonLines(path)) {
    if (isItem(value)) yield value;
    else if (skipped) skipped.lines++;
  }
}
