// A restore whose download stalls, is cut, or never answers fails within its idle timeout and
// says what failed, with nothing written; two restores into one target: the second is refused
// while the first holds it (also when many processes start at once, or take over a dead
// restore's lock together); a target filled meanwhile is not replaced without --force.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { restoreArchive } from '../../core/restore/archive.js';
import { ROOT } from '../../scripts/local-stack.js';

/** The option names the messages use (the CLI's). */
const names = { force: '--force', allowUnverified: '--allow-unverified', maxBytes: '--max-bytes' };

let work: string;
let archive: Buffer;
let expected: { sha256: string; size: number };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'download-faults-'));
  const tree = join(work, 'tree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'a.txt'), 'restored\n');
  execFileSync('tar', ['-cf', join(work, 'a.tar'), '-C', tree, '.']);
  archive = readFileSync(join(work, 'a.tar'));
  expected = { sha256: createHash('sha256').update(archive).digest('hex'), size: archive.length };
  process.env.R2_BACKUP_IDLE_TIMEOUT_MS = '400';
});
afterAll(() => {
  delete process.env.R2_BACKUP_IDLE_TIMEOUT_MS;
  rmSync(work, { recursive: true, force: true });
});

/** The whole archive restored into `target`. */
const restoreWhole = (target: string) =>
  restoreArchive({
    open: async () => Readable.from([archive]),
    compression: 'none',
    expected,
    target,
    names,
  });

/** A stream that sends `bytes` of the archive, then does what `then` says. */
function partial(bytes: number, then: 'stall' | 'cut'): Readable {
  const stream = new Readable({ read() {} });
  stream.push(archive.subarray(0, bytes));
  if (then === 'cut') setTimeout(() => stream.destroy(new Error('aborted')), 20);
  return stream;
}

const box = (): { dir: string; target: string } => {
  const dir = mkdtempSync(join(work, 'box-'));
  return { dir, target: join(dir, 'target') };
};

async function failure(promise: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const started = Date.now();
  const error = await promise.then(
    () => new Error('resolved'),
    (e: unknown) => e as Error,
  );
  return { message: error.message, ms: Date.now() - started };
}

test.each([
  ['stalls', () => partial(512, 'stall'), /stalled: no byte for 0\.4 s after 512 of \d+ bytes/],
  ['is cut', () => partial(512, 'cut'), /failed \(aborted\) after 512 of \d+ bytes/],
  ['never answers', () => new Promise<Readable>(() => {}), /got no answer for 0\.4 s after 0 of/],
] as const)('a download that %s fails in time, says so, and writes nothing', async (_name, open, message) => {
  const { dir, target } = box();
  const { message: said, ms } = await failure(
    restoreArchive({ open: async () => open(), compression: 'none', expected, target, names }),
  );
  expect(said).toMatch(message);
  expect(said).toMatch(/Nothing was written: .* was left as it was/);
  expect(ms).toBeLessThan(5000);
  expect(readdirSync(dir)).toEqual([]);
});

test('a second restore into the same target is refused while the first holds it', async () => {
  const { dir, target } = box();
  process.env.R2_BACKUP_IDLE_TIMEOUT_MS = '1500';
  const first = restoreArchive({
    open: async () => partial(512, 'stall'),
    compression: 'none',
    expected,
    target,
    names,
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const second = await failure(restoreWhole(target));
  expect(second.message).toMatch(
    new RegExp(`Another restore \\(process ${process.pid}\\) is writing ${target}.*Nothing was written`),
  );
  expect((await failure(first)).message).toMatch(/stalled/);
  process.env.R2_BACKUP_IDLE_TIMEOUT_MS = '400';
  // The lock went with the first restore: the next one restores.
  const third = await restoreWhole(target);
  expect(third.entries).toBeGreaterThan(0);
  expect(readFileSync(join(target, 'a.txt'), 'utf8')).toBe('restored\n');
  expect(readdirSync(dir)).toEqual(['target']);
});

test('a lock left by a restore that was killed is taken over', async () => {
  const { dir, target } = box();
  const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
  writeFileSync(join(dir, '.target.restore-lock'), `${gone}\n`);
  await restoreWhole(target);
  expect(readdirSync(dir)).toEqual(['target']);
});

test.each([
  ['empty', (lock: string) => writeFileSync(lock, '')],
  ['written by something else', (lock: string) => writeFileSync(lock, 'not a pid\n')],
  ['unreadable: a directory', (lock: string) => mkdirSync(lock)],
])('a lock that names no process (%s) is treated as held', async (_name, make) => {
  const { dir, target } = box();
  make(join(dir, '.target.restore-lock'));
  const refused = await failure(restoreWhole(target));
  expect(refused.message).toMatch(new RegExp(`^Another restore is writing ${target}.*Nothing was written`));
  expect(readdirSync(dir)).toEqual(['.target.restore-lock']);
});

/** Starts `count` processes that each try to take `target` at once (test/helpers/lock-child.ts);
 *  what each printed: won, refused, or overlap (it got in while another was inside). */
async function contend(target: string, count: number): Promise<string[]> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [join(ROOT, 'test/helpers/lock-child.ts'), target, '400']),
  );
  const outputs = children.map((child) => {
    let out = '';
    child.stdout.on('data', (data: Buffer) => (out += data.toString()));
    return new Promise<string>((resolve) => child.once('close', () => resolve(out.trim())));
  });
  await Promise.all(children.map((child) => once(child.stdout, 'data')));
  for (const child of children) child.stdin.end('go\n');
  return (await Promise.all(outputs)).map((out) => out.replace(/^ready\s*/, ''));
}

test.each([
  ['a missing target', false],
  ['a target whose lock was left by a killed restore', true],
])(
  'many processes restoring into %s at once: one gets in at a time',
  async (_name, deadLock) => {
    const { dir, target } = box();
    if (deadLock) {
      const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
      writeFileSync(join(dir, '.target.restore-lock'), `${gone}\n`);
    }
    const outcomes = await contend(target, 8);
    expect(outcomes.filter((o) => !/^(won|refused)$/.test(o))).toEqual([]);
    expect(outcomes).toContain('won');
    // Nothing left: no lock, no temporary lock file, no takeover claim, no staging.
    expect(readdirSync(dir)).toEqual([]);
  },
  30_000,
);

test('a target filled while the archive came in is not replaced without --force', async () => {
  const { dir, target } = box();
  const slow = new Readable({ read() {} });
  const restoring = restoreArchive({ open: async () => slow, compression: 'none', expected, target, names });
  await new Promise((resolve) => setTimeout(resolve, 100));
  mkdirSync(target);
  writeFileSync(join(target, 'mine.txt'), 'written meanwhile\n');
  slow.push(archive);
  slow.push(null);
  expect((await failure(restoring)).message).toMatch(/is not empty.*--force/);
  expect(readFileSync(join(target, 'mine.txt'), 'utf8')).toBe('written meanwhile\n');
  expect(readdirSync(dir)).toEqual(['target']);
});
