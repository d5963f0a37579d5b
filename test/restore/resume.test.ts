// A download that stalls after some bytes resumes where it stopped (the idle timeout ends the
// attempt, the next asks for the rest with the first answer's ETag); an answer without an ETag
// is never resumed (nothing pins the rest to the same object) and fails as before.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { restoreArchive } from '../../core/restore/archive.js';
import type { ResumeFrom } from '../../core/r2/object-source.js';

const names = { force: '--force', allowUnverified: '--allow-unverified', maxBytes: '--max-bytes' };
let work: string;
let archive: Buffer;
let expected: { sha256: string; size: number };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'resume-'));
  const tree = join(work, 'tree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'a.bin'), Buffer.alloc(200_000, 'x'));
  execFileSync('tar', ['-cf', join(work, 'a.tar'), '-C', tree, '.']);
  archive = readFileSync(join(work, 'a.tar'));
  expected = { sha256: createHash('sha256').update(archive).digest('hex'), size: archive.length };
  process.env.R2_BACKUP_IDLE_TIMEOUT_MS = '300';
  process.env.R2_BACKUP_RETRY_BASE_MS = '10';
});
afterAll(() => {
  delete process.env.R2_BACKUP_IDLE_TIMEOUT_MS;
  delete process.env.R2_BACKUP_RETRY_BASE_MS;
  rmSync(work, { recursive: true, force: true });
});

/** Sends the archive from `offset`, stalling after `upTo` bytes of it when given. */
function answer(offset: number, upTo?: number): Readable {
  const stream = new Readable({ read() {} });
  stream.push(archive.subarray(offset, upTo));
  if (upTo === undefined) stream.push(null);
  return stream;
}

test('a download that stalls after some bytes resumes from there, with its ETag', async () => {
  const asked: (ResumeFrom | undefined)[] = [];
  const warnings: string[] = [];
  const dir = mkdtempSync(join(work, 'box-'));
  const result = await restoreArchive({
    open: async (_signal, from) => {
      asked.push(from);
      return { body: from ? answer(from.offset) : answer(0, 70_000), etag: '"v1"' };
    },
    compression: 'none',
    expected,
    target: join(dir, 'target'),
    names,
    object: 'backups/t/a.tar',
    warn: (message) => warnings.push(message),
  });
  expect(result.sha256).toBe(expected.sha256);
  expect(readFileSync(join(dir, 'target', 'a.bin')).equals(Buffer.alloc(200_000, 'x'))).toBe(true);
  expect(asked).toEqual([undefined, { offset: 70_000, etag: '"v1"' }]);
  expect(warnings).toEqual([
    `the download of the archive backups/t/a.tar stalled: no byte for 0.3 s after 70000 of ${archive.length} bytes; ` +
      'resuming at byte 70000, attempt 2 of 5',
  ]);
  expect(readdirSync(dir)).toEqual(['target']);
});

test('an answer without an ETag is not resumed: it fails as before, nothing written', async () => {
  const dir = mkdtempSync(join(work, 'box-'));
  let opened = 0;
  const restoring = restoreArchive({
    open: async () => {
      opened++;
      return answer(0, 70_000);
    },
    compression: 'none',
    expected,
    target: join(dir, 'target'),
    names,
  });
  await expect(restoring).rejects.toThrow(
    new RegExp(
      `^The download of the archive stalled: no byte for 0.3 s after 70000 of ${archive.length} bytes\\. ` +
        'Nothing was written',
    ),
  );
  expect(opened).toBe(1);
  expect(readdirSync(dir)).toEqual([]);
});
