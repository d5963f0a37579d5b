// A comparable description of a directory tree: type, mode, size, content hash and link
// target of every entry, keyed by relative path. Two trees are equal when their snapshots are.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface EntrySnapshot {
  type: 'file' | 'dir' | 'symlink';
  mode: string;
  size?: number;
  sha256?: string;
  target?: string;
}

export function snapshotTree(
  root: string,
  skip: (relative: string) => boolean = () => false,
): Record<string, EntrySnapshot> {
  const out: Record<string, EntrySnapshot> = {};
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(root, relative)).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      if (skip(path)) continue;
      const full = join(root, path);
      const stat = lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) out[path] = { type: 'symlink', mode: 'link', target: readlinkSync(full) };
      else if (stat.isDirectory()) {
        out[path] = { type: 'dir', mode };
        walk(path);
      } else if (stat.isFile()) {
        const data = readFileSync(full);
        out[path] = {
          type: 'file',
          mode,
          size: data.length,
          sha256: createHash('sha256').update(data).digest('hex'),
        };
      }
    }
  };
  walk('');
  return out;
}
