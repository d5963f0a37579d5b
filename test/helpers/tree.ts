// A comparable description of a directory tree: type, mode, size, content hash and link
// target of every entry, keyed by relative path. Two trees are equal when their snapshots are.
// Names are read as bytes and walked directory by directory (core/tree/directory-cursor.ts), so
// that names that are not UTF-8 and paths longer than PATH_MAX are described too: such a
// name's key and link target are `bytes:` and the hex of their bytes, every other one is text.
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { DirectoryCursor, byteString, bytesOf } from '../../core/tree/directory-cursor.js';

export interface EntrySnapshot {
  type: 'file' | 'dir' | 'symlink';
  mode: string;
  size?: number;
  sha256?: string;
  target?: string;
}

/** A byte string as a snapshot key: its text when it is UTF-8, else `bytes:<hex>`. */
export function keyOf(bytes: string): string {
  const buffer = bytesOf(bytes);
  return isUtf8(buffer) ? buffer.toString('utf8') : `bytes:${buffer.toString('hex')}`;
}

export function snapshotTree(
  root: string,
  skip: (relative: string) => boolean = () => false,
): Record<string, EntrySnapshot> {
  const out: Record<string, EntrySnapshot> = {};
  const cursor = new DirectoryCursor(byteString(root));
  const walk = (relative: string): void => {
    for (const name of readdirSync(cursor.here(), { encoding: 'latin1' }).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      const key = keyOf(path);
      if (skip(key)) continue;
      const full = cursor.path(name);
      const stat = lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink())
        out[key] = { type: 'symlink', mode: 'link', target: keyOf(readlinkSync(full, 'latin1')) };
      else if (stat.isDirectory()) {
        out[key] = { type: 'dir', mode };
        const mark = cursor.enter(name);
        try {
          walk(path);
        } finally {
          cursor.leave(mark);
        }
      } else if (stat.isFile()) {
        out[key] = { type: 'file', mode, size: stat.size, sha256: hashFile(full) };
      }
    }
  };
  try {
    walk('');
  } finally {
    cursor.close();
  }
  return out;
}

function hashFile(path: Buffer): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 16);
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
