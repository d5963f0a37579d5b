// A source tree with everything an archive must get right, and a snapshot of a tree that the
// tests compare after extracting with GNU tar.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';

export interface EntrySnapshot {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  target?: string;
  sha256?: string;
}

/** Every entry under root (relative path -> type, mode, link target, content hash). */
export function snapshotTree(root: string): Map<string, EntrySnapshot> {
  const out = new Map<string, EntrySnapshot>();
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const rel = prefix + name;
      const st = lstatSync(abs);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.set(rel, { type: 'dir', mode });
        walk(abs, rel + '/');
      } else if (st.isSymbolicLink()) out.set(rel, { type: 'symlink', mode: 0, target: readlinkSync(abs) });
      else if (st.isFile()) {
        out.set(rel, {
          type: 'file',
          mode,
          sha256: createHash('sha256').update(readFileSync(abs)).digest('hex'),
        });
      } else throw new Error(`unexpected entry type in extracted tree: ${rel}`);
    }
  };
  walk(root, '');
  return out;
}

function write(
  root: string,
  rel: string,
  content: string | Buffer = `content of ${rel}\n`,
  mode = 0o644,
): void {
  const abs = join(root, rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, content);
  chmodSync(abs, mode);
}

export const LONG_DIR = 'deep/' + 'a-rather-long-directory-name-0123456789/'.repeat(4);
export const LONG_NAME = 'n'.repeat(180) + '.txt';

/** Builds the fixture; returns the unix socket's server (close it after the tests). */
export async function buildFixture(root: string): Promise<Server> {
  mkdirSync(root, { recursive: true });
  write(root, 'README.md');
  write(root, 'build.txt', 'a file named like an excluded directory stays\n');
  write(root, 'notbuild/keep.txt');
  write(root, '.git/HEAD', 'ref: refs/heads/main\n');
  write(root, '.git/objects/ab/cdef');
  write(root, 'src/lib/vendor/node_modules/pkg/index.js'); // node_modules at depth 3
  write(root, 'src/lib/vendor/kept.js');
  write(root, 'packages/app/dist/bundle.js'); // dist inside a subdirectory
  write(root, 'packages/app/src/main.ts');
  write(root, 'packages/app/.next/cache.bin');
  write(root, 'docs/build/index.html');
  write(root, '.cache/x');
  write(root, 'bin/run.sh', '#!/bin/sh\necho hi\n', 0o755);
  write(root, 'secrets/private.key', 'not really\n', 0o600);
  write(root, 'empty.txt', '');
  write(root, 'dir/with space/file name.txt');
  write(root, 'ünïcödé/文件 名.txt', 'unicode\n');
  write(root, LONG_DIR + 'file-in-a-long-path.txt');
  write(root, LONG_DIR + LONG_NAME);
  write(root, 'logs/app.log', 'log\n');
  mkdirSync(join(root, 'empty-dir'));
  mkdirSync(join(root, 'nested/empty/dirs'), { recursive: true });
  chmodSync(join(root, 'secrets'), 0o700);
  // Several MiB: incompressible and compressible parts, larger than one compression block.
  const big = Buffer.alloc(6 * 1024 * 1024 + 123);
  for (let i = 0; i + 4 <= big.length; i += 4) big.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
  big.write('x'.repeat(1024 * 1024), 2 * 1024 * 1024);
  write(root, 'data/big.bin', big);
  symlinkSync('../README.md', join(root, 'src/readme-link'));
  symlinkSync('/etc/hostname', join(root, 'absolute-link'));
  symlinkSync('does/not/exist', join(root, 'dangling-link'));
  symlinkSync('packages/app', join(root, 'dir-link'));
  write(root, 'hard/original.txt', 'shared by two names\n');
  linkSync(join(root, 'hard/original.txt'), join(root, 'hard/second-name.txt'));
  execFileSync('mkfifo', [join(root, 'a-fifo')]);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(root, 'a-socket'), resolve));
  return server;
}

/** The tree GNU tar itself archives with these excludes (sockets and FIFOs left out). */
export function gnuTarReference(source: string, excludes: string[], into: string): void {
  mkdirSync(into, { recursive: true });
  const args = ['-C', source, '-cf', '-', ...excludes.map((e) => `--exclude=${e}`), '--exclude=a-fifo', '.'];
  const tarball = execFileSync('tar', args, { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  execFileSync('tar', ['-C', into, '-xf', '-'], { input: tarball });
}
