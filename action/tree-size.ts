// The uncompressed size of a tree, an upper bound of its archive's size, from which the part
// size is chosen. Only lstat: no file is read. Entries whose name equals an exclude pattern
// are skipped; glob patterns are not applied, which can only overestimate (never a part too small).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** tar's header and padding per entry, rounded up. */
const PER_ENTRY = 1024;

export function estimateTreeBytes(root: string, excludes: string[]): number {
  const skip = new Set(excludes);
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue; // the archive step reports unreadable directories
    }
    for (const name of names) {
      if (skip.has(name)) continue;
      const path = join(dir, name);
      const stat = lstatSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      total += PER_ENTRY;
      if (stat.isDirectory()) stack.push(path);
      else if (stat.isFile()) total += stat.size;
    }
  }
  return total;
}
