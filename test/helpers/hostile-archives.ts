// Hostile tar archives for the restore suites (issue 16, /tmp/restore-spec.md), from a raw
// ustar + pax block writer: Python's tarfile and GNU tar will not write most of them (NUL in a
// name, unknown types, no end-of-archive marker, oversized pax records). One table of cases is
// shared by the unit suite (safeExtract) and the end-to-end suite (`r2-backup restore`).
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import { snapshotTree, type EntrySnapshot } from './tree.js';

const BLOCK = 512;

export interface RawEntry {
  name: string;
  /** The typeflag: '0' file (default), '1' hard link, '2' symlink, '5' directory, or any byte. */
  type?: string;
  data?: string | Buffer;
  link?: string;
  mode?: number;
}

export const file = (name: string, data: string | Buffer = 'x', mode = 0o644): RawEntry => ({
  name,
  data,
  mode,
});
export const dir = (name: string, mode = 0o755): RawEntry => ({ name, type: '5', mode });
export const symlink = (name: string, link: string): RawEntry => ({ name, type: '2', link });
export const hardlink = (name: string, link: string): RawEntry => ({ name, type: '1', link });

const octal = (value: number, width: number): string => value.toString(8).padStart(width - 1, '0') + '\0';

function header(name: Buffer, type: string, size: number, mode: number, link: Buffer): Buffer {
  const block = Buffer.alloc(BLOCK);
  name.copy(block, 0, 0, 100);
  block.write(octal(mode, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1'); // uid
  block.write(octal(0, 8), 116, 'latin1'); // gid
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(1_600_000_000, 12), 136, 'latin1'); // mtime
  block.write(type, 156, 'latin1');
  link.copy(block, 157, 0, 100);
  block.write('ustar\x0000', 257, 'latin1');
  block.write(octal(0, 8), 329, 'latin1'); // devmajor
  block.write(octal(0, 8), 337, 'latin1'); // devminor
  return withChecksum(block);
}

function withChecksum(block: Buffer): Buffer {
  block.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return block;
}

/** One pax record, "<length> <key>=<value>\n", the length counting its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.from(` ${key}=${value}\n`, 'utf8');
  let length = body.length;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

const padded = (data: Buffer): Buffer[] => [data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)];

/** The blocks of one entry: a pax header first when a name or link does not fit ustar. */
function entryBlocks(entry: RawEntry): Buffer[] {
  const name = Buffer.from(entry.name, 'utf8');
  const link = Buffer.from(entry.link ?? '', 'utf8');
  const needsPax = (value: Buffer): boolean => value.length > 100 || value.includes(0);
  const pax: Buffer[] = [];
  if (needsPax(name)) pax.push(paxRecord('path', entry.name));
  if (needsPax(link)) pax.push(paxRecord('linkpath', entry.link!));
  const data = Buffer.from(entry.data ?? '');
  const type = entry.type ?? '0';
  const mode = entry.mode ?? (type === '5' ? 0o755 : type === '2' ? 0o777 : 0o644);
  const blocks: Buffer[] = [];
  if (pax.length > 0) {
    const records = Buffer.concat(pax);
    blocks.push(header(Buffer.from('PaxHeaders/entry'), 'x', records.length, 0o644, Buffer.alloc(0)));
    blocks.push(...padded(records));
  }
  // A harmless placeholder where pax carries the real value.
  const shortName = needsPax(name) ? Buffer.from('pax-placeholder') : name;
  const shortLink = needsPax(link) ? Buffer.from('pax-placeholder') : link;
  blocks.push(header(shortName, type, data.length, mode, shortLink), ...padded(data));
  return blocks;
}

/** A tar archive of `entries`, with the two zero end blocks unless `end` is false. */
export function tar(entries: RawEntry[], { end = true } = {}): Buffer {
  const blocks = entries.flatMap(entryBlocks);
  if (end) blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

/** A pax header whose records apply to the entry after it. */
export const paxHeader = (records: [string, string][]): RawEntry => ({
  name: 'PaxHeader',
  type: 'x',
  data: Buffer.concat(records.map(([key, value]) => paxRecord(key, value))),
});

/** The pax records of a sparse 1.0 file of `realSize` bytes (its map opens its data). */
export const sparse10 = (realSize: number): RawEntry =>
  paxHeader([
    ['GNU.sparse.major', '1'],
    ['GNU.sparse.minor', '0'],
    ['GNU.sparse.realsize', String(realSize)],
  ]);

/** A sparse 1.0 file's data: its map (the count, then offset and size, one a line) padded to a
 *  block, then the stored bytes. */
export function sparse10Data(regions: [offset: number, size: number][], stored: string): Buffer {
  const map = Buffer.from([regions.length, ...regions.flat()].map((n) => `${n}\n`).join(''));
  return Buffer.concat([...padded(map), Buffer.from(stored)]);
}

/** An old GNU sparse file (type 'S', GNU magic): 4 regions in the header, 21 in each extension
 *  block after it, then the stored bytes. */
export function oldGnuSparse(
  name: string,
  realSize: number,
  regions: [offset: number, size: number][],
  stored: Buffer,
): Buffer {
  const entry = (block: Buffer, at: number, [offset, size]: [number, number]): void => {
    block.write(octal(offset, 12), at, 'latin1');
    block.write(octal(size, 12), at + 12, 'latin1');
  };
  const first = header(Buffer.from(name), 'S', stored.length, 0o644, Buffer.alloc(0));
  first.write('ustar  \0', 257, 'latin1');
  first.fill(0, 329, BLOCK); // GNU keeps times and the sparse map where ustar has devices and prefix
  regions.slice(0, 4).forEach((region, i) => entry(first, 386 + i * 24, region));
  first[482] = regions.length > 4 ? 1 : 0;
  first.write(octal(realSize, 12), 483, 'latin1');
  const blocks = [withChecksum(first)];
  for (let from = 4; from < regions.length; from += 21) {
    const block = Buffer.alloc(BLOCK);
    regions.slice(from, from + 21).forEach((region, i) => entry(block, i * 24, region));
    block[504] = from + 21 < regions.length ? 1 : 0;
    blocks.push(block);
  }
  return Buffer.concat([...blocks, ...padded(stored)]);
}

/** A gzip'd archive of one `size`-byte file of zeros: a decompression bomb of about 1 MB. */
export async function zeroBomb(size: number): Promise<Buffer> {
  const gzip = createGzip({ level: 1 });
  const parts: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => parts.push(chunk));
  const done = new Promise((resolve, reject) => gzip.on('end', resolve).on('error', reject));
  const write = (chunk: Buffer): Promise<void> =>
    new Promise((resolve) => (gzip.write(chunk) ? resolve() : gzip.once('drain', resolve)));
  await write(header(Buffer.from('zeros.bin'), '0', size, 0o644, Buffer.alloc(0)));
  const mebibyte = Buffer.alloc(1024 * 1024);
  for (let left = size; left > 0; left -= mebibyte.length)
    await write(mebibyte.subarray(0, Math.min(left, mebibyte.length)));
  await write(Buffer.alloc(((BLOCK - (size % BLOCK)) % BLOCK) + 2 * BLOCK));
  gzip.end();
  await done;
  return Buffer.concat(parts);
}

/** Bytes that look random but are the same on every run (a SHA-256 chain), each ORed with
 *  `or` (0x80 sets the flag that marks a base-256 number in a header field). */
export function noise(length: number, or = 0): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash('sha256').update('r2-backup hostile noise').digest();
  for (let at = 0; at < length; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out.map((byte) => byte | or) as Buffer;
}

/** Where a case runs: `box/` holds `target/` beside things an escape would touch. */
export interface Place {
  box: string;
  target: string;
}

/** The box: a sibling directory, a `shared/docs` tree for symlinks to point at, a victim file.
 *  Old mtimes, so that a utime through a link shows. The target is made only if asked. */
export function makeBox(box: string, { makeTarget }: { makeTarget: boolean }): Place {
  const target = join(box, 'target');
  mkdirSync(join(box, 'sibling/inner'), { recursive: true });
  mkdirSync(join(box, 'shared/docs'), { recursive: true });
  const files = ['victim.txt', 'sibling/notes.txt', 'sibling/inner/deep.txt', 'shared/docs/readme.md'];
  for (const path of files) writeFileSync(join(box, path), `original ${path}\n`);
  const old = new Date('2001-02-03T04:05:06Z');
  for (const path of [...files, 'sibling/inner', 'sibling', 'shared/docs', 'shared'])
    utimesSync(join(box, path), old, old);
  if (makeTarget) mkdirSync(target);
  return { box, target };
}

/** Everything outside the target: each entry's type, mode, content and mtime, and the box's
 *  own mode (its mtime moves when restore stages beside the target). A staging directory left
 *  behind shows here too. */
export function outsideState(box: string): Record<string, EntrySnapshot & { mtime?: number }> {
  const state: Record<string, EntrySnapshot & { mtime?: number }> = {
    '.': { type: 'dir', mode: (lstatSync(box).mode & 0o7777).toString(8) },
  };
  const inTarget = (path: string): boolean => path === 'target' || path.startsWith('target/');
  for (const [path, entry] of Object.entries(snapshotTree(box, inTarget)))
    state[path] = { ...entry, mtime: lstatSync(join(box, path)).mtimeMs };
  return state;
}

/** A restored tree as the cases describe it: 'dir', '-> <link target>', or a file's content. */
export function describeTree(root: string): Record<string, string> {
  const tree: Record<string, string> = {};
  for (const [path, entry] of Object.entries(snapshotTree(root))) {
    if (entry.type === 'dir') tree[path] = 'dir';
    else if (entry.type === 'symlink') tree[path] = `-> ${entry.target}`;
    else tree[path] = readFileSync(join(root, path), 'utf8');
  }
  return tree;
}

/** The permission bits of `paths` (a case's `modes` keys) under `root`. */
export const modesOf = (root: string, paths: Record<string, number> = {}): Record<string, number> =>
  Object.fromEntries(Object.keys(paths).map((path) => [path, lstatSync(join(root, path)).mode & 0o7777]));

/** The symbolic links an expected tree holds, as ExtractResult.symlinks lists them. */
export const symlinksOf = (tree: Record<string, string>): { path: string; target: string }[] =>
  Object.entries(tree)
    .filter(([, value]) => value.startsWith('-> '))
    .map(([path, value]) => ({ path, target: value.slice(3) }))
    .sort((a, b) => a.path.localeCompare(b.path));

export interface HostileCase {
  name: string;
  compression: 'none' | 'gzip';
  archive: (place: Place) => Buffer;
  /** Refused: the message matches. */
  refused?: RegExp;
  /** Accepted: the target then holds exactly this (see describeTree). With `refused` too,
   *  either outcome keeps to the spec. */
  restored?: Record<string, string>;
  /** Accepted: the permission bits (setuid, setgid and sticky included) of these paths. */
  modes?: Record<string, number>;
  /** The extraction's limit (safeExtract's maxBytes, restore's --max-bytes). */
  maxBytes?: number;
  /** A cost case whose memory the suites also measure: the process's peak RSS stays below
   *  MEMORY_LIMIT_MIB. */
  boundedMemory?: boolean;
}

/** Peak RSS of a process that extracts or restores a hostile archive (Node alone takes ~60). */
export const MEMORY_LIMIT_MIB = 200;

/** pax headers of ~1 MB each (short records, so many of them), one after another before a
 *  single file: each is under the cap, together far over it. */
function stackedPaxHeaders(count: number): Buffer {
  const records = paxRecord('a', 'b').toString('latin1').repeat(150_000);
  const headers = Array.from({ length: count }, (): RawEntry => ({
    name: 'PaxHeader',
    type: 'x',
    data: records,
  }));
  return tar([...headers, file('f')]);
}

const NOT_TAR = /not (a )?tar|no entr(y|ies)/i;
const THROUGH = /goes through the archive's symbolic link/;
const REFUSED = /^Refused archive entry "/;
const refusedEntry = (name: string): RegExp => new RegExp(`^Refused archive entry "${name}"`);

// A directory entry over an earlier symlink of its name: rule 4 ("a later entry replaces the
// earlier one", as GNU tar does) or rule 2 (a link named as a directory) may apply. Either
// way the link is never followed: the directory is real, or the archive is refused.
const REPLACED_OR_REFUSED = (restored: Record<string, string>) => ({ refused: REFUSED, restored });

type Expected = Pick<HostileCase, 'refused' | 'restored' | 'modes'>;
type Row = [name: string, archive: (place: Place) => Buffer, expected: RegExp | Expected];

const rows: Row[] = [
  // Aliasing: a later entry reaching outside through a symbolic link of the archive.
  [
    'alias: s -> . then d//t -> ../s/.. then d/t/victim.txt',
    () => tar([symlink('s', '.'), symlink('d//t', '../s/..'), file('d/t/victim.txt', 'pwned')]),
    THROUGH,
  ],
  [
    'alias: s -> . then d/./t -> ../s/.. then d/t/victim.txt',
    () => tar([symlink('s', '.'), symlink('d/./t', '../s/..'), file('d/t/victim.txt', 'pwned')]),
    THROUGH,
  ],
  [
    'alias: trailing /. (s -> ../sibling then directory s/. mode 0777)',
    () => tar([symlink('s', '../sibling'), dir('s/.', 0o777)]),
    REPLACED_OR_REFUSED({ s: 'dir' }),
  ],
  [
    'alias: chain through two links (a -> ., b -> a, b/x)',
    () => tar([symlink('a', '.'), symlink('b', 'a'), file('b/x')]),
    THROUGH,
  ],
  [
    'alias: chain through two links out (a -> ., b -> a/.., b/victim.txt)',
    () => tar([symlink('a', '.'), symlink('b', 'a/..'), file('b/victim.txt', 'pwned')]),
    THROUGH,
  ],
  [
    'alias: case folding (S -> .. then s/victim.txt)',
    () => tar([symlink('S', '..'), file('s/victim.txt', 'pwned')]),
    THROUGH,
  ],
  [
    'alias: NFC link, NFD directory (café -> .. then café/victim.txt)',
    () => tar([symlink('caf\u00e9', '..'), file('cafe\u0301/victim.txt', 'pwned')]),
    THROUGH,
  ],
  [
    'alias: hard link h -> s/../victim.txt with s -> .',
    () => tar([symlink('s', '.'), hardlink('h', 's/../victim.txt'), file('h', 'pwned')]),
    refusedEntry('h'),
  ],
  [
    'alias: hard link h -> s/victim.txt with s -> ..',
    () => tar([symlink('s', '..'), hardlink('h', 's/victim.txt'), file('h', 'pwned')]),
    refusedEntry('h'),
  ],
  [
    "alias: hard link h -> s/file with s -> . (file is the archive's, by another name)",
    () => tar([file('file'), symlink('s', '.'), hardlink('h', 's/file')]),
    refusedEntry('h'),
  ],
  [
    'alias: chmod through a link (d -> ../sibling then directory d/ mode 0777)',
    () => tar([symlink('d', '../sibling'), dir('d/', 0o777)]),
    REPLACED_OR_REFUSED({ d: 'dir' }),
  ],
  [
    'alias: a link over a directory of the archive (d/ then d -> ../sibling)',
    () => tar([dir('d/'), symlink('d', '../sibling')]),
    REFUSED,
  ],
  [
    'replace: a file over an earlier symlink of its name replaces the link',
    () => tar([symlink('link', '../victim.txt'), file('link', 'replaced')]),
    { restored: { link: 'replaced' } },
  ],
  [
    'replace: a file over a hard-linked name leaves the other name as it was',
    () => tar([file('a', 'original'), hardlink('b', 'a'), file('b', 'replaced')]),
    { restored: { a: 'original', b: 'replaced' } },
  ],
  [
    'replace: a symlink over a file',
    () => tar([file('f', 'x'), symlink('f', '../victim.txt')]),
    { restored: { f: '-> ../victim.txt' } },
  ],
  [
    'replace: a hard link over a file',
    () => tar([file('a', 'one'), file('b', 'two'), hardlink('b', 'a')]),
    { restored: { a: 'one', b: 'one' } },
  ],
  [
    'replace: a read-only file by a later file of its name',
    () => tar([file('f', 'one', 0o444), file('f', 'two')]),
    { restored: { f: 'two' } },
  ],
  ['replace: a file over a directory is refused', () => tar([dir('d/'), file('d')]), REFUSED],

  // Path classes.
  ['path: leading ..', () => tar([file('../victim.txt', 'pwned')]), REFUSED],
  ['path: nested a/../../', () => tar([file('a/../../victim.txt', 'pwned')]), REFUSED],
  ['path: absolute', ({ box }) => tar([file(`${box}/victim.txt`, 'pwned')]), REFUSED],
  ['path: NUL (pax path)', () => tar([file('x\0/../../victim.txt', 'pwned')]), REFUSED],
  ['path: backslash', () => tar([file('a\\..\\..\\victim.txt', 'pwned')]), REFUSED],
  ['path: drive letter C:/x', () => tar([file('C:/x')]), REFUSED],
  ['path: drive letter c:x', () => tar([file('c:x')]), REFUSED],
  ['path: drive letter in a later segment', () => tar([file('a/C:x')]), REFUSED],
  ['path: empty name', () => tar([file('')]), REFUSED],
  ['path: a root entry that is a file', () => tar([file('.')]), /root is not a directory/],
  ['path: a root entry that is a symbolic link', () => tar([symlink('.', '..')]), /root is not a directory/],
  // Names up to 64 KiB restore (issue 17 item 10, test/restore/bytes-and-depth.test.ts).
  ['path: a 70,001-byte name', () => tar([file(`${'d'.repeat(99)}/`.repeat(700) + 'f')]), REFUSED],
  ['hard link: outside', () => tar([hardlink('h', '../victim.txt')]), refusedEntry('h')],
  ['hard link: absolute', ({ box }) => tar([hardlink('h', `${box}/victim.txt`)]), refusedEntry('h')],
  ['hard link: to a directory', () => tar([dir('d/'), hardlink('h', 'd')]), refusedEntry('h')],
  [
    'hard link: to a symlink',
    () => tar([symlink('s', '../victim.txt'), hardlink('h', 's')]),
    refusedEntry('h'),
  ],
  ['hard link: to a missing name', () => tar([file('a'), hardlink('h', 'missing')]), refusedEntry('h')],
  ['hard link: empty target', () => tar([file('a'), hardlink('h', '')]), refusedEntry('h')],
  ['symlink target: empty', () => tar([symlink('s', '')]), refusedEntry('s')],
  ['symlink target: NUL', () => tar([symlink('s', '..\0/etc')]), refusedEntry('s')],
  ['symlink target: backslash', () => tar([symlink('s', '..\\..\\etc')]), refusedEntry('s')],
  ['symlink target: drive letter', () => tar([symlink('s', 'C:\\Windows')]), refusedEntry('s')],

  // Symbolic links are data: restored verbatim, never written through.
  [
    'data: abs-link -> /etc/hostname and docs -> ../shared/docs restore verbatim',
    () =>
      tar([
        file('README.md', 'readme\n'),
        symlink('abs-link', '/etc/hostname'),
        symlink('docs', '../shared/docs'),
        dir('sub/'),
        symlink('sub/up', '../../sibling'),
      ]),
    {
      restored: {
        'README.md': 'readme\n',
        'abs-link': '-> /etc/hostname',
        docs: '-> ../shared/docs',
        sub: 'dir',
        'sub/up': '-> ../../sibling',
      },
    },
  ],

  // Bounded cost: refused quickly, with a short message.
  ['cost: a pax path record over 1 MiB', () => tar([file('p/'.repeat(600_000) + 'f')]), /./],
  [
    'cost: a GNU long name over 1 MiB',
    () => tar([{ name: '././@LongLink', type: 'L', data: 'l/'.repeat(600_000) + 'f\0' }, file('short')]),
    /./,
  ],

  // Modes: never set-user-id or set-group-id.
  [
    'mode: setuid and setgid are stripped (a 6755 file, a 2755 directory)',
    () => tar([dir('d/', 0o2755), file('d/tool', '#!/bin/sh\n', 0o6755), file('plain', 'p', 0o4644)]),
    {
      restored: { d: 'dir', 'd/tool': '#!/bin/sh\n', plain: 'p' },
      modes: { d: 0o755, 'd/tool': 0o755, plain: 0o644 },
    },
  ],

  // Sparse maps that do not fit their file.
  [
    'sparse: a pax 1.0 region past the real size',
    () =>
      tar([
        sparse10(100),
        file(
          's',
          sparse10Data(
            [
              [0, 5],
              [200, 5],
            ],
            'aaaaabbbbb',
          ),
        ),
      ]),
    /sparse region lies past the file size/,
  ],
  [
    'sparse: a pax 0.1 map that does not match the stored data',
    () =>
      tar([
        paxHeader([
          ['GNU.sparse.major', '0'],
          ['GNU.sparse.minor', '1'],
          ['GNU.sparse.size', '100'],
          ['GNU.sparse.map', '0,5,50,5'],
          ['GNU.sparse.name', 's'],
        ]),
        file('GNUSparseFile.0/s', 'x'.repeat(20)),
      ]),
    /sparse map does not match the stored data/,
  ],
  [
    'sparse: a pax 1.0 map that does not match the stored data',
    () => tar([sparse10(100), file('s', sparse10Data([[0, 5]], 'x'.repeat(20)))]),
    /sparse map does not match the stored data/,
  ],
  [
    'sparse: a pax 0.1 map with an odd count of numbers',
    () =>
      tar([
        paxHeader([
          ['GNU.sparse.major', '0'],
          ['GNU.sparse.minor', '1'],
          ['GNU.sparse.size', '100'],
          ['GNU.sparse.map', '0,5,50'],
          ['GNU.sparse.name', 's'],
        ]),
        file('GNUSparseFile.0/s', 'x'.repeat(5)),
      ]),
    /sparse map with an odd count/,
  ],
  [
    'sparse: an old GNU region past the real size',
    () =>
      Buffer.concat([
        oldGnuSparse(
          's',
          100,
          [
            [0, 5],
            [200, 5],
          ],
          Buffer.from('x'.repeat(10)),
        ),
        Buffer.alloc(2 * BLOCK),
      ]),
    /sparse region lies past the file size/,
  ],

  // Types that are not restored.
  ['type: FIFO', () => tar([{ name: 'pipe', type: '6' }]), /^Refused archive entry "pipe".*FIFO/],
  [
    'type: character device',
    () => tar([{ name: 'tty', type: '3' }]),
    /^Refused archive entry "tty".*character device/,
  ],
  [
    'type: block device',
    () => tar([{ name: 'disk', type: '4' }]),
    /^Refused archive entry "disk".*block device/,
  ],
  [
    'type: multi-volume continuation',
    () => tar([{ name: 'part', type: 'M', data: 'x' }]),
    /^Refused archive entry "part".*multi-volume/,
  ],
  [
    // Not 'X': GNU tar and the tar package read it as Solaris's extended header.
    'type: unknown Q',
    () => tar([{ name: 'odd', type: 'Q' }]),
    /^Refused archive entry "odd".*(unknown|type "?Q)/,
  ],

  // Parity with GNU tar on ordinary oddities.
  [
    'parity: no end-of-archive blocks, cut at an entry boundary',
    () => tar([file('a', 'one'), dir('d/'), file('d/b', 'two')], { end: false }),
    { restored: { a: 'one', d: 'dir', 'd/b': 'two' } },
  ],
  ['parity: only zero blocks', () => Buffer.alloc(20 * BLOCK), /no entr(y|ies)/i],
  ['parity: random bytes', () => noise(20 * BLOCK), NOT_TAR],
  ['parity: random bytes with high bits set', () => noise(20 * BLOCK, 0x80), NOT_TAR],
  ['parity: text', () => Buffer.from('not a tar archive\n'.repeat(600)), NOT_TAR],
];

export const HOSTILE_CASES: HostileCase[] = [
  ...rows.map(([name, archive, expected]): HostileCase => ({
    name,
    compression: 'none',
    archive,
    ...(expected instanceof RegExp ? { refused: expected } : expected),
  })),
  {
    name: 'cost: 100,000 nested levels in a gzip-compressed pax path',
    compression: 'gzip',
    archive: () => gzipSync(tar([file('a/'.repeat(100_000) + 'f')])),
    refused: /./,
  },
  {
    // 45 KB of gzip; before the per-entry total, 2.7 s and 830 MiB.
    name: 'cost: stacked pax headers past 1 MiB in total',
    compression: 'gzip',
    archive: () => gzipSync(stackedPaxHeaders(30)),
    refused:
      /a pax header brings the extension headers of one entry to \d+ bytes .*more than 1048576 bytes in total/,
    boundedMemory: true,
  },
  {
    // 1.2 KB of gzip; before the map was read incrementally, 94 s of CPU.
    name: 'cost: a pax sparse 1.0 map of 600,000 lines',
    compression: 'gzip',
    archive: () => gzipSync(tar([sparse10(100), file('s', '99999999\n' + '1\n'.repeat(600_000))])),
    refused: /sparse map larger than 1 MiB/,
  },
  {
    // 45,000 regions in 2,150 extension blocks.
    name: 'cost: an old GNU sparse map over 1 MiB',
    compression: 'gzip',
    archive: () => {
      const regions = Array.from({ length: 45_000 }, (_, i): [number, number] => [2 * i, 1]);
      const stored = Buffer.alloc(regions.length, 0x78);
      return gzipSync(
        Buffer.concat([oldGnuSparse('s', 2 * regions.length, regions, stored), Buffer.alloc(2 * BLOCK)]),
      );
    },
    refused: /sparse map larger than 1 MiB/,
  },
  {
    // Each entry counts at least 512 bytes: 2,048 fit in 1 MiB; 20,000 empty ones do not.
    name: 'cost: 10,000 empty files and 10,000 directories against a 1 MiB limit',
    compression: 'gzip',
    archive: () =>
      gzipSync(tar(Array.from({ length: 20_000 }, (_, i) => (i % 2 ? file(`f${i}`, '') : dir(`d${i}/`))))),
    maxBytes: 1024 * 1024,
    refused: /expands past the limit of 1048576 bytes.*2049 entries, each counted as at least 512 bytes/,
  },
  {
    name: 'parity: gzip, no end-of-archive blocks',
    compression: 'gzip',
    archive: () => gzipSync(tar([file('a', 'one')], { end: false })),
    restored: { a: 'one' },
  },
];
