// core/tar/pack.ts: the tar producer stores times as GNU tar does and reads only as fast as its
// consumer reads.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { createTarReadable } from '../../../core/tar/pack.js';
import { stalled, turn } from '../../helpers/stall.js';

let work: string;
beforeAll(() => (work = mkdtempSync(join(tmpdir(), 'tar-pack-'))));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('mtimes are whole seconds cut down, as GNU tar stores them, also just before a second ends', async () => {
  const root = join(work, 'mtimes');
  mkdirSync(root);
  const times = {
    'early.txt': 1_700_000_000.0004,
    'late.txt': 1_700_000_000.9996,
    'whole.txt': 1_700_000_123,
  };
  for (const [name, seconds] of Object.entries(times)) {
    writeFileSync(join(root, name), name);
    utimesSync(join(root, name), seconds, seconds);
  }
  const file = join(work, 'mtimes.tar');
  await pipeline(createTarReadable({ root, exclude: () => false }).stream, createWriteStream(file));
  const ours = execFileSync('tar', ['--list', '--verbose', '--full-time', '-f', file], { encoding: 'utf8' });
  const reference = join(work, 'mtimes-gnu.tar');
  execFileSync('tar', ['-cf', reference, '-C', root, '.']);
  const gnu = execFileSync('tar', ['--list', '--verbose', '--full-time', '-f', reference], {
    encoding: 'utf8',
  });
  const mtimeOf = (listing: string, name: string) =>
    listing
      .split('\n')
      .find((line) => line.endsWith(name))!
      .split(/\s+/)
      .slice(3, 5)
      .join(' ');
  for (const name of Object.keys(times)) expect(mtimeOf(ours, name)).toBe(mtimeOf(gnu, name));
  expect(mtimeOf(ours, 'late.txt')).toBe(mtimeOf(ours, 'early.txt'));
});

describe('backpressure', () => {
  let bigRoot: string;
  const SIZE = 16 * 1024 * 1024;
  beforeAll(() => {
    bigRoot = join(work, 'big');
    mkdirSync(bigRoot);
    for (const name of ['random1.bin', 'random2.bin']) writeFileSync(join(bigRoot, name), randomBytes(SIZE));
  });

  test('the tar producer reads files only as fast as its consumer reads', async () => {
    const { stream, counters } = createTarReadable({ root: bigRoot, exclude: () => false });
    await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
    stream.read();
    await stalled(stream);
    const read = counters.bytesIn;
    expect(read).toBeLessThanOrEqual(4 * 1024 * 1024);
    // And it has stopped reading: nothing more while the consumer waits.
    await turn();
    expect(counters.bytesIn).toBe(read);
    stream.resume();
    await finished(stream);
    expect(counters).toEqual({ files: 2, bytesIn: 2 * SIZE });
  });
});
