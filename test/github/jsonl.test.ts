// The one reader of the export's JSON Lines (core/github/jsonl.ts): lines with their byte places,
// bad lines reported, and a line past the cap skipped without being gathered in memory.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_LINE_BYTES, jsonLines, readItems } from '../../core/github/jsonl.js';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'r2-backup-jsonl-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
};

test('each line with its place; empty lines skipped, not JSON reported as undefined', async () => {
  const file = join(dir, 'small.jsonl');
  const text = '{"id":1}\n\nnot json\n[1,2]\n{"id":"é"}';
  writeFileSync(file, text);
  const lines = await collect(jsonLines(file));
  expect(lines.map(({ line, value, tooLong }) => ({ line, value, tooLong }))).toEqual([
    { line: 1, value: { id: 1 }, tooLong: false },
    { line: 3, value: undefined, tooLong: false },
    { line: 4, value: [1, 2], tooLong: false },
    { line: 5, value: { id: 'é' }, tooLong: false },
  ]);
  // Offsets and lengths are in bytes: each slice of the file is its line.
  const bytes = readFileSync(file);
  for (const { offset, length, value } of lines) {
    if (value !== undefined)
      expect(JSON.parse(bytes.subarray(offset, offset + length).toString())).toEqual(value);
  }
  const skipped = { lines: 0 };
  expect(await collect(readItems(file, skipped))).toEqual([{ id: 1 }, { id: 'é' }]);
  expect(skipped.lines).toBe(2);
});

test('a line longer than the cap is reported too long, and the lines after it are read', async () => {
  const file = join(dir, 'long.jsonl');
  const long = `{"body":"${'x'.repeat(MAX_LINE_BYTES)}"}`;
  writeFileSync(file, `{"id":1}\n${long}\n{"id":3}\n`);
  const lines = await collect(jsonLines(file));
  expect(lines.map(({ line, value, tooLong }) => ({ line, value, tooLong }))).toEqual([
    { line: 1, value: { id: 1 }, tooLong: false },
    { line: 2, value: undefined, tooLong: true },
    { line: 3, value: { id: 3 }, tooLong: false },
  ]);
  expect(lines[1]!.length).toBe(Buffer.byteLength(long));
  expect(lines[2]!.offset).toBe(9 + Buffer.byteLength(long) + 1);
});
