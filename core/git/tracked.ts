// The paths git tracks under a directory, so that the default excludes leave out build output
// and never a committed file (a repository that commits its `dist/`, as JavaScript actions do).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TrackedPaths } from '../tree/excludes.js';

const exec = promisify(execFile);

/** The tracked files under `root` and every directory above one, relative to `root`; an empty
 *  set when `root` is not inside a git work tree (or git is missing): nothing is kept then. */
export async function trackedPaths(root: string): Promise<TrackedPaths> {
  let listing: string;
  try {
    // -z: names verbatim (no quoting), relative to root; only the index is read, no file.
    ({ stdout: listing } = await exec('git', ['-C', root, 'ls-files', '-z'], {
      maxBuffer: 1024 * 1024 * 1024,
    }));
  } catch {
    return new Set<string>();
  }
  const paths = new Set<string>();
  for (const file of listing.split('\0')) {
    if (file === '') continue;
    paths.add(file);
    for (let slash = file.lastIndexOf('/'); slash > 0; slash = file.lastIndexOf('/', slash - 1)) {
      const directory = file.slice(0, slash);
      if (paths.has(directory)) break;
      paths.add(directory);
    }
  }
  return paths;
}
