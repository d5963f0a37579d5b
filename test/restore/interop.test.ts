// Interop: one tree archived by GNU tar, bsdtar and Python's tarfile in every format they
// write (sparse forms included) must restore exactly as GNU tar extracts the same archive.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createReadStream,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  ftruncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { safeExtract } from '../../core/restore/extract.js';
import type { Compression } from '../../common/validate.js';
import { snapshotTree } from '../helpers/tree.js';

const MiB = 1024 * 1024;
const LONG_DIR = ['a', 'b', 'c', 'd'].map((c) => c.repeat(60)).join('/');
// > 256 bytes: no ustar header can hold it, so it exercises pax `path`, GNU `L` entries.
const LONG_FILE = `${LONG_DIR}/${'e'.repeat(60)}.txt`;
// > 100 bytes but splittable into ustar prefix + name.
const MEDIUM_FILE = `${'m'.repeat(70)}/${'n'.repeat(70)}.txt`;

let work: string;
let source: string;

// Deterministic bytes, so a failure reproduces.
function bytes(length: number, seed: string): Buffer {
  const out = Buffer.alloc(length);
  let block = Buffer.from(seed);
  for (let at = 0; at < length; at += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(out, at);
  }
  return out;
}

function writeSparse(path: string, size: number, runs: [offset: number, length: number][]): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  for (const [offset, length] of runs) writeSync(fd, bytes(length, `${path}@${offset}`), 0, length, offset);
  closeSync(fd);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'interop-'));
  source = join(work, 'source');
  const put = (path: string, data: string | Buffer, mode = 0o644): void => {
    mkdirSync(join(source, path, '..'), { recursive: true });
    writeFileSync(join(source, path), data);
    chmodSync(join(source, path), mode);
  };
  put('files/empty', '');
  put('files/small.txt', 'hello\n');
  put('files/100k.bin', bytes(100 * 1024, 'k'));
  put('files/big.bin', bytes(MiB + 12345, 'big'));
  put('naïve résumé 日本/файл ✓.txt', 'unicode\n');
  put(LONG_FILE, 'long path\n');
  put(MEDIUM_FILE, 'medium path\n');
  put('bin/run.sh', '#!/bin/sh\necho hi\n', 0o755);
  put('secret/private.key', 'not really\n', 0o600);
  mkdirSync(join(source, 'empty dir'));
  linkSync(join(source, 'bin/run.sh'), join(source, 'bin/run-hardlink.sh'));
  mkdirSync(join(source, 'links'));
  symlinkSync('../files/small.txt', join(source, 'links/inside'));
  symlinkSync('missing-target', join(source, 'links/dangling'));
  symlinkSync('/etc/hostname', join(source, 'links/abs'));
  symlinkSync(`../${LONG_FILE}`, join(source, 'links/long-target'));
  mkdirSync(join(source, 'data'));
  // Data at the start, at 5 MiB and at the end; one file all hole; one with more runs than a
  // GNU 'S' header holds (extension blocks) and a pax 1.0 map longer than one block.
  writeSparse(join(source, 'data/sparse.img'), 20 * MiB, [
    [0, 4096],
    [5 * MiB, 4096],
    [20 * MiB - 3000, 3000],
  ]);
  writeSparse(join(source, 'data/hole.img'), 3 * MiB, []);
  writeSparse(
    join(source, 'data/many.img'),
    8 * MiB,
    Array.from({ length: 100 }, (_, i): [number, number] => [i * 65536 + 1000, 5000]),
  );
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const SPARSE_FILES = ['data/sparse.img', 'data/hole.img', 'data/many.img'];

interface Writer {
  name: string;
  compression: Compression;
  write: (archive: string) => void;
  // What proves the archive holds sparse entries (so a sparse case cannot pass vacuously).
  sparse?: 'S' | '0.0' | '0.1' | '1.0';
  // ustar holds neither the > 256-byte path nor the > 100-byte link target.
  ustar?: boolean;
}

const beyondUstar = (path: string): boolean =>
  path === 'links/long-target' || path === LONG_DIR || path.startsWith(`${LONG_DIR}/`);

function gnuTar(args: string[], archive: string): void {
  const run = spawnSync('tar', [...args, '-cf', archive, '-C', source, '.'], { encoding: 'utf8' });
  if (args.includes('--format=ustar')) {
    // GNU tar leaves out what ustar cannot hold, says so and exits 2.
    expect(run.stderr).toMatch(/file name is too long/);
    expect(run.stderr).toMatch(/link name is too long/);
    expect(run.status).toBe(2);
  } else {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  }
}

function bsdtar(args: string[], archive: string): void {
  execFileSync('bsdtar', [...args, '-cf', archive, '-C', source, '.']);
}

// Python's tarfile raises on a name its format cannot hold: each entry is added on its own,
// and those it refuses must be the ones ustar cannot hold.
function pythonTar(format: string, archive: string): void {
  const program = `import os, sys, tarfile
root, skipped = sys.argv[1], []
with tarfile.open(sys.argv[2], 'w', format=tarfile.${format}) as t:
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in sorted(dirs + files):
            full = os.path.join(d, n)
            try:
                t.add(full, arcname=os.path.relpath(full, root), recursive=False)
            except ValueError:
                skipped.append(os.path.relpath(full, root))
print('\\n'.join(skipped))`;
  const skipped = execFileSync('python3', ['-c', program, source, archive], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  if (format === 'USTAR_FORMAT') {
    expect(skipped).toEqual(expect.arrayContaining([LONG_FILE, 'links/long-target']));
    expect(skipped.filter((path) => !beyondUstar(path))).toEqual([]);
  } else expect(skipped).toEqual([]);
}

const writers: Writer[] = [
  { name: 'GNU tar --format=gnu', compression: 'none', write: (a) => gnuTar(['--format=gnu'], a) },
  { name: 'GNU tar --format=posix', compression: 'none', write: (a) => gnuTar(['--format=posix'], a) },
  { name: 'GNU tar --format=oldgnu', compression: 'none', write: (a) => gnuTar(['--format=oldgnu'], a) },
  {
    name: 'GNU tar --format=ustar',
    compression: 'none',
    write: (a) => gnuTar(['--format=ustar'], a),
    ustar: true,
  },
  { name: 'GNU tar --zstd', compression: 'zstd', write: (a) => gnuTar(['--zstd'], a) },
  {
    name: 'GNU tar -S --format=gnu',
    compression: 'none',
    write: (a) => gnuTar(['-S', '--format=gnu'], a),
    sparse: 'S',
  },
  {
    name: 'GNU tar -S --format=oldgnu',
    compression: 'none',
    write: (a) => gnuTar(['-S', '--format=oldgnu'], a),
    sparse: 'S',
  },
  ...(['0.0', '0.1', '1.0'] as const).map((version): Writer => ({
    name: `GNU tar -S --format=posix --sparse-version=${version}`,
    compression: 'none',
    write: (a) => gnuTar(['-S', '--format=posix', `--sparse-version=${version}`], a),
    sparse: version,
  })),
  {
    name: 'GNU tar -S --format=posix --zstd',
    compression: 'zstd',
    write: (a) => gnuTar(['-S', '--format=posix', '--zstd'], a),
    // GNU tar's default sparse form in posix format.
    sparse: '1.0',
  },
  // bsdtar's default (restricted pax) writes sparse files as GNU.sparse 1.0 without being asked.
  { name: 'bsdtar (default)', compression: 'none', write: (a) => bsdtar([], a), sparse: '1.0' },
  {
    name: 'bsdtar --format pax',
    compression: 'none',
    write: (a) => bsdtar(['--format', 'pax'], a),
    sparse: '1.0',
  },
  { name: 'bsdtar --format gnutar', compression: 'none', write: (a) => bsdtar(['--format', 'gnutar'], a) },
  { name: 'Python tarfile GNU_FORMAT', compression: 'none', write: (a) => pythonTar('GNU_FORMAT', a) },
  { name: 'Python tarfile PAX_FORMAT', compression: 'none', write: (a) => pythonTar('PAX_FORMAT', a) },
  {
    name: 'Python tarfile USTAR_FORMAT',
    compression: 'none',
    write: (a) => pythonTar('USTAR_FORMAT', a),
    ustar: true,
  },
];

const octal = (field: Buffer): number => {
  if (field[0]! & 0x80)
    return field.subarray(1).reduce((value, byte) => value * 256 + byte, field[0]! & 0x7f);
  return parseInt(field.toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
};

// The typeflag of every header and the text of every pax header: enough to see which sparse
// form an archive really holds. GNU 'S' extension blocks (isextended at 482, then at 504 of each
// block) sit between the header and its data.
function headers(archive: Buffer): { types: string[]; pax: string } {
  const types: string[] = [];
  let pax = '';
  for (let at = 0; at + 512 <= archive.length;) {
    const header = archive.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const type = String.fromCharCode(header[156]!);
    const size = octal(header.subarray(124, 136));
    types.push(type);
    at += 512;
    if (type === 'S') for (let more = header[482]; more; at += 512) more = archive[at + 504];
    if (type === 'x' || type === 'g') pax += archive.subarray(at, at + size).toString('utf8');
    at += Math.ceil(size / 512) * 512;
  }
  return { types, pax };
}

function expectSparseEntries(
  archive: string,
  compression: Compression,
  form: NonNullable<Writer['sparse']>,
): void {
  const raw =
    compression === 'zstd'
      ? execFileSync('zstd', ['-dc', archive], { maxBuffer: 64 * MiB })
      : readFileSync(archive);
  // Dense, the three sparse files alone take 31 MiB.
  expect(raw.length).toBeLessThan(8 * MiB);
  const { types, pax } = headers(raw);
  const expected = {
    S: () => expect(types.filter((t) => t === 'S')).toHaveLength(SPARSE_FILES.length),
    // One record per run: many.img alone has 100.
    '0.0': () => expect(pax.match(/ GNU\.sparse\.offset=/g)!.length).toBeGreaterThan(100),
    '0.1': () => expect(pax.match(/ GNU\.sparse\.map=/g)).toHaveLength(SPARSE_FILES.length),
    '1.0': () => {
      expect(pax.match(/ GNU\.sparse\.major=1\n/g)).toHaveLength(SPARSE_FILES.length);
      expect(raw.includes('GNUSparseFile.')).toBe(true);
    },
  };
  expected[form]();
}

const gnuExtractFlags: Record<Compression, string[]> = { none: [], zstd: ['--zstd'], gzip: ['-z'] };

test.each(writers)(
  '$name: restores as GNU tar extracts it',
  async ({ name, compression, write, sparse, ustar }) => {
    const slug = name.replace(/[^A-Za-z0-9]+/g, '-');
    const archive = join(work, `${slug}.tar`);
    const gnuDir = join(work, `${slug}-gnu`);
    const ourDir = join(work, `${slug}-ours`);
    mkdirSync(gnuDir);
    mkdirSync(ourDir);
    try {
      write(archive);
      if (sparse) expectSparseEntries(archive, compression, sparse);

      execFileSync('tar', [
        ...gnuExtractFlags[compression],
        '-xf',
        archive,
        '--same-permissions',
        '-C',
        gnuDir,
      ]);
      const result = await safeExtract(createReadStream(archive), compression, ourDir);

      const expected = snapshotTree(gnuDir);
      // The oracle itself: GNU tar gives back the source, less what ustar could not hold.
      const outsideUstar = (path: string) => !!ustar && beyondUstar(path);
      expect(snapshotTree(gnuDir, outsideUstar)).toEqual(snapshotTree(source, outsideUstar));

      const actual = snapshotTree(ourDir);
      expect(Object.keys(actual).filter((p) => p.includes('GNUSparseFile'))).toEqual([]);
      expect(actual).toEqual(expected);

      // Sparse: same apparent size and the very same bytes as GNU tar's extraction.
      for (const file of SPARSE_FILES) {
        expect(statSync(join(ourDir, file)).size).toBe(statSync(join(gnuDir, file)).size);
        expect(readFileSync(join(ourDir, file)).equals(readFileSync(join(gnuDir, file)))).toBe(true);
      }
      // Hard-link groups and file mtimes, which snapshotTree does not see.
      const ino = (dir: string, path: string) => lstatSync(join(dir, path)).ino;
      expect(ino(ourDir, 'bin/run.sh') === ino(ourDir, 'bin/run-hardlink.sh')).toBe(
        ino(gnuDir, 'bin/run.sh') === ino(gnuDir, 'bin/run-hardlink.sh'),
      );
      for (const [path, entry] of Object.entries(expected))
        if (entry.type === 'file')
          expect([path, Math.floor(statSync(join(ourDir, path)).mtimeMs / 1000)]).toEqual([
            path,
            Math.floor(statSync(join(gnuDir, path)).mtimeMs / 1000),
          ]);

      // Every symbolic link restored is reported, with its target as stored.
      const reported = result.symlinks.map(
        ({ path, target }) => `${relative(ourDir, resolve(ourDir, path))} -> ${target}`,
      );
      const links = Object.entries(expected)
        .filter(([, entry]) => entry.type === 'symlink')
        .map(([path, entry]) => `${path} -> ${entry.target}`);
      expect(reported.sort()).toEqual(links.sort());
    } finally {
      for (const path of [archive, gnuDir, ourDir]) rmSync(path, { recursive: true, force: true });
    }
  },
);
