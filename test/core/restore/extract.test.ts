import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  createReadStream,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safeExtract, UnsafeArchiveError } from '../../../core/restore/extract.js';
import type { Compression } from '../../../common/validate.js';
import { snapshotTree } from '../../helpers/tree.js';

let work: string;
let source: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'safe-extract-'));
  source = join(work, 'source');
  mkdirSync(join(source, 'src/deep/er'), { recursive: true });
  mkdirSync(join(source, 'empty dir'));
  writeFileSync(join(source, 'src/deep/er/main.ts'), 'export const x = 1;\n');
  writeFileSync(join(source, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(source, 'run.sh'), 0o755);
  writeFileSync(join(source, 'private.key'), 'not really');
  chmodSync(join(source, 'private.key'), 0o600);
  writeFileSync(join(source, 'empty'), '');
  writeFileSync(join(source, 'naïve résumé 日本.txt'), 'unicode\n');
  writeFileSync(join(source, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  const long = join(source, 'a'.repeat(60), 'b'.repeat(60));
  mkdirSync(long, { recursive: true });
  writeFileSync(join(long, 'c'.repeat(60) + '.txt'), 'long path\n');
  symlinkSync('src/deep/er/main.ts', join(source, 'link-to-main'));
  symlinkSync('../run.sh', join(source, 'src/up-link'));
  symlinkSync('missing-target', join(source, 'dangling'));
  linkSync(join(source, 'run.sh'), join(source, 'run-hardlink.sh'));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const gnuTarFlags: Record<Compression, string[]> = { gzip: ['-czf'], zstd: ['--zstd', '-cf'], none: ['-cf'] };

test.each<Compression>(['gzip', 'zstd', 'none'])(
  'a GNU tar archive (%s) extracts to an identical tree',
  async (compression) => {
    const archive = join(work, `tree-${compression}.tar`);
    execFileSync('tar', [...gnuTarFlags[compression], archive, '-C', source, '.']);
    const target = join(work, `out-${compression}`);
    mkdirSync(target);
    const { entries } = await safeExtract(createReadStream(archive), compression, target);
    expect(entries).toBeGreaterThan(10);
    expect(snapshotTree(target)).toEqual(snapshotTree(source));
  },
);

// Hostile archives, written with Python's tarfile, which stores names as given.
function hostileArchive(name: string, script: string): string {
  const path = join(work, `${name}.tar`);
  const program = `import tarfile, io
t = tarfile.open(${JSON.stringify(path)}, 'w')
def add(name, data=b'x', kind=tarfile.REGTYPE, link=''):
    info = tarfile.TarInfo(name); info.type = kind; info.linkname = link; info.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
add('ok.txt')
${script}
t.close()`;
  execFileSync('python3', ['-c', program]);
  return path;
}

// Each escape is aimed at a path in the box beside the target, so that both ways an extractor
// could get a name wrong show: resolving it (a file in the box) or joining it (a file in the target).
test.each<[string, (box: string) => string, string]>([
  ['dotdot', () => "add('../escaped.txt')", 'name contains ".."'],
  ['nested-dotdot', () => "add('a/../../escaped.txt')", 'name contains ".."'],
  ['absolute', (box) => `add(${JSON.stringify(join(box, 'escaped.txt'))})`, 'absolute name'],
  [
    'hardlink-out',
    () => "add('evil', kind=tarfile.LNKTYPE, link='../outside')",
    'hard link target contains ".."',
  ],
])('a hostile archive (%s) is refused and writes nothing outside', async (name, script, reason) => {
  const box = join(work, `box-${name}`);
  const target = join(box, 'target');
  mkdirSync(target, { recursive: true });
  const archive = hostileArchive(name, script(box));
  const error = await safeExtract(createReadStream(archive), 'none', target).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnsafeArchiveError);
  expect((error as Error).message).toContain(reason);
  expect(readdirSync(box)).toEqual(['target']);
  // Only the harmless entry before the hostile one may have been written.
  expect(readdirSync(target).filter((entry) => entry !== 'ok.txt')).toEqual([]);
});

test('a truncated archive is an error, not a partial success', async () => {
  const archive = join(work, 'truncated.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', source, '.']);
  const cut = join(work, 'cut.tar.gz');
  const bytes = readFileSync(archive);
  writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
  const target = join(work, 'out-truncated');
  mkdirSync(target);
  await expect(safeExtract(createReadStream(cut), 'gzip', target)).rejects.toThrow();
});

test('no entry is written through a symbolic link of the archive', async () => {
  // `a -> .` stays inside; `a/b -> ../x` looks inside but is the target's parent through `a`.
  const archive = hostileArchive(
    'through-symlink',
    `add('a', kind=tarfile.SYMTYPE, link='.')
add('a/b', kind=tarfile.SYMTYPE, link='../escaped-dir')
add('b/evil.txt')`,
  );
  const box = join(work, 'box-through');
  const target = join(box, 'target');
  mkdirSync(target, { recursive: true });
  const error = await safeExtract(createReadStream(archive), 'none', target).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnsafeArchiveError);
  expect((error as Error).message).toMatch(/"a\/b".*goes through the archive's symbolic link "a"/);
  expect(readdirSync(box)).toEqual(['target']);
});

test('a file entry replaces an earlier symbolic link of the same name, never writes through it', async () => {
  const archive = hostileArchive(
    'replace-symlink',
    `add('victim', kind=tarfile.SYMTYPE, link='ok.txt')
add('victim', b'overwrite through the link')`,
  );
  const target = join(work, 'out-replace-symlink');
  mkdirSync(target);
  const { symlinks } = await safeExtract(createReadStream(archive), 'none', target);
  expect(symlinks).toEqual([]);
  expect(readFileSync(join(target, 'victim'), 'utf8')).toBe('overwrite through the link');
  expect(readFileSync(join(target, 'ok.txt'), 'utf8')).toBe('x');
});

test.each([
  ['cut inside an entry', (b: Buffer) => b.subarray(0, 700)],
  [
    'with a damaged header',
    (b: Buffer) => Buffer.concat([b.subarray(0, 1024), Buffer.from('garbage!'), b.subarray(1032)]),
  ],
])('a plain tar %s is an error', async (_name, damage) => {
  const archive = join(work, 'plain.tar');
  execFileSync('tar', ['-cf', archive, '-C', source, 'run.sh', 'src']);
  const damaged = join(work, 'damaged.tar');
  writeFileSync(damaged, damage(readFileSync(archive)));
  const target = mkdtempSync(join(work, 'out-damaged-'));
  await expect(safeExtract(createReadStream(damaged), 'none', target)).rejects.toThrow(
    /truncated|checksum|invalid/,
  );
});

test('special files (a FIFO) are refused, not restored', async () => {
  const archive = hostileArchive('fifo', "add('pipe', kind=tarfile.FIFOTYPE)");
  const target = mkdtempSync(join(work, 'out-fifo-'));
  await expect(safeExtract(createReadStream(archive), 'none', target)).rejects.toThrow(
    /Refused archive entry "pipe": a FIFO \(type 6\) is not restored/,
  );
});
