// Issue 17 item 10: names that are not valid UTF-8 (git checks them out) and paths longer than
// PATH_MAX back up with `node dist/index.js`, list and extract with GNU tar as the same bytes,
// and restore with `node dist/cli/index.js restore` to an identical tree. GNU tar itself cannot
// extract a name longer than PATH_MAX (mkdir: File name too long), so its extraction is
// compared without that chain; the listing and our restore cover all of it.
import { execFile } from 'node:child_process';
import {
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { DirectoryCursor, byteString, bytesOf } from '../../core/tree/directory-cursor.js';
import { normaliseName, quoteName } from '../../core/tree/entry-name.js';
import { encodeHeader } from '../../core/tar/header.js';
import { aws, runAction, s3Inputs } from '../action/helpers.js';
import { fullEnv, runCli } from '../cli/helpers.js';
import { keyOf, snapshotTree } from '../helpers/tree.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const BUCKET = 'tenant-a-github-backup';
const b = (...bytes: number[]): string => Buffer.from(bytes).toString('latin1');
/** f\xff.txt, as the issue's example. */
const BAD = b(0x66, 0xff, 0x2e, 0x74, 0x78, 0x74);
const SEGMENT = 's'.repeat(250);

let stack: LocalStack;
let work: string;
let tree: string;
/** Every archive name (byte strings, directories with '/'), as the tree was built. */
const names: string[] = [];

/** Makes `relative` (a byte string) in `tree`, directory by directory, as deep as it is. */
function make(relative: string, content?: string, link?: { symlink?: string; hard?: string }): void {
  const parts = relative.split('/');
  const cursor = new DirectoryCursor(byteString(tree));
  try {
    let at = '';
    for (const part of parts.slice(0, -1)) {
      at += `${part}/`;
      if (!names.includes(at)) {
        mkdirSync(cursor.path(part));
        names.push(at);
      }
      cursor.enter(part);
    }
    const leaf = cursor.path(parts.at(-1)!);
    if (link?.symlink !== undefined) symlinkSync(bytesOf(link.symlink), leaf);
    else if (link?.hard !== undefined) linkSync(bytesOf(`${byteString(tree)}/${link.hard}`), leaf);
    else {
      const fd = openSync(leaf, 'w', 0o644);
      writeSync(fd, content ?? relative);
      closeSync(fd);
    }
    names.push(relative);
  } finally {
    cursor.close();
  }
}

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-bytes-'));
  tree = join(work, 'tree');
  mkdirSync(tree);
  make(BAD, 'not UTF-8\n');
  make(`${b(0x64, 0xfe, 0xfd)}/inner.txt`);
  make(`link${b(0xff)}`, undefined, { symlink: BAD });
  make('n'.repeat(120) + b(0xff, 0xc3), 'a GNU long name\n');
  make('long-target', undefined, { symlink: `t${b(0xff)}`.repeat(70) });
  make(`hard${b(0xfe)}`, undefined, { hard: BAD });
  make('café.txt'.replace('é', b(0xc3, 0xa9)), 'UTF-8\n');
  // Under PATH_MAX from the tree root (GNU tar extracts it), over it from the file system's root.
  const near = `near/${`${SEGMENT}/`.repeat(16)}`;
  make(near + 'f'.repeat(4080 - near.length), 'near\n');
  // Over PATH_MAX from the tree root too.
  const beyond = `beyond/${`${SEGMENT}/`.repeat(22)}`;
  make(`${beyond}end.txt`, 'beyond\n');
  make(`${beyond}${BAD}`, 'deep and not UTF-8\n');
  make(`${beyond}link`, undefined, { symlink: `../${b(0xfe)}` });
}, 120_000);
afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tree is what the test means: a name over PATH_MAX, names that are not UTF-8', () => {
  expect(Math.max(...names.map((name) => name.length))).toBeGreaterThan(5500);
  expect(
    names.filter((name) => !Buffer.from(name, 'latin1').toString('utf8').includes('\ufffd')).length,
  ).toBeLessThan(names.length);
  expect(Object.keys(snapshotTree(tree))).toContain(`bytes:${Buffer.from(BAD, 'latin1').toString('hex')}`);
});

test('backed up by node dist/index.js, listed and extracted by GNU tar, restored by the CLI, byte for byte', async () => {
  const run = await runAction({
    inputs: { ...s3Inputs(stack), 'api-url': stack.url, 'api-token': TOKEN, tenant: 'tenant-a', path: tree },
  });
  expect(run.code).toBe(0);
  const key = run.outputs['backup-key']!;
  const file = join(work, 'backup.tar.gz');
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, file, '--only-show-errors');

  // GNU tar lists the names' bytes.
  const listed = await exec('tar', ['-tzf', file, '--quoting-style=literal'], {
    encoding: 'latin1',
    maxBuffer: 1 << 24,
  });
  // The archive's root entry first (its mode and time, for the target), then every name.
  expect(listed.stdout.split('\n').filter(Boolean).sort()).toEqual(['./', ...names].sort());
  const verbose = await exec('tar', ['-tvzf', file, '--quoting-style=literal'], {
    encoding: 'latin1',
    maxBuffer: 1 << 24,
  });
  expect(verbose.stdout).toContain(`link${b(0xff)} -> ${BAD}\n`);
  expect(verbose.stdout).toContain(`long-target -> ${`t${b(0xff)}`.repeat(70)}\n`);

  // GNU tar extracts the same bytes (but for the chain it cannot create).
  const gnu = join(work, 'gnu');
  mkdirSync(gnu);
  await exec('tar', ['-xzf', file, '-C', gnu, '--exclude=beyond']);
  const source = snapshotTree(tree);
  const beyondHex = `bytes:${Buffer.from('beyond').toString('hex')}`;
  const notBeyond = (k: string): boolean => !k.startsWith('beyond') && !k.startsWith(beyondHex);
  const withoutBeyond = Object.fromEntries(Object.entries(source).filter(([k]) => notBeyond(k)));
  expect(snapshotTree(gnu)).toEqual(withoutBeyond);

  // r2-backup restore brings back all of it.
  const target = join(work, 'restored');
  const restored = await runCli(
    ['restore', '--tenant', 'tenant-a', '--backup', run.outputs['backup-file']!, '--target', target],
    fullEnv(stack, TOKEN),
  );
  expect(restored.stderr + restored.stdout).not.toMatch(/Refused|ENAMETOOLONG|ENOENT/);
  expect(restored.code).toBe(0);
  expect(snapshotTree(target)).toEqual(source);
  expect(Object.keys(source).some((k) => k.length > 4096)).toBe(true);
});

test('a name that is not UTF-8 goes to the ustar fields or a GNU long name, never to pax', () => {
  const header = (path: string, linkpath?: string): string =>
    encodeHeader({
      path: bytesOf(path),
      type: linkpath === undefined ? 'file' : 'symlink',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtimeMs: 0,
      ...(linkpath === undefined ? {} : { linkpath: bytesOf(linkpath) }),
    }).toString('latin1');
  expect(header(BAD)).toHaveLength(512);
  expect(header(BAD).slice(0, 6)).toBe(BAD);
  const long = 'n'.repeat(300) + b(0xff);
  const withLong = header(long);
  expect(withLong.slice(0, 13)).toBe('././@LongLink');
  expect(withLong[156]).toBe('L');
  expect(withLong.slice(512, 512 + long.length + 1)).toBe(`${long}\0`);
  expect(withLong).not.toContain('path=');
  const linked = header('l', 'x'.repeat(200) + b(0xfe));
  expect(linked[156]).toBe('K');
  // Valid UTF-8 still goes to pax, as before.
  expect(header('caf\u00e9'.replace('\u00e9', b(0xc3, 0xa9)))).toContain(`path=caf${b(0xc3, 0xa9)}\n`);
});

test('names: bytes kept, 64 KiB and 2,048 levels at most, refused quickly, messages short', () => {
  expect(normaliseName(`a//${BAD}/./b`)).toEqual({ name: `a/${BAD}/b` });
  expect(normaliseName(`${SEGMENT}/`.repeat(200) + 'f')).toHaveProperty('name');
  expect(normaliseName(`${SEGMENT}/`.repeat(262) + 'f')).toEqual({ reason: 'name longer than 65536 bytes' });
  const started = performance.now();
  expect(normaliseName('a/'.repeat(100_000) + 'f')).toHaveProperty('reason');
  expect(normaliseName('a/'.repeat(3000) + 'f')).toEqual({ reason: 'name deeper than 2048 directories' });
  expect(performance.now() - started).toBeLessThan(1000);
  const quoted = quoteName(`${BAD}/`.repeat(10_000));
  expect(quoted.length).toBeLessThan(220);
  expect(quoted).toContain('f\ufffd.txt');
  expect(keyOf(BAD)).toBe('bytes:66ff2e747874');
});
