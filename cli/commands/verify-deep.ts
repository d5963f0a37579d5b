// verify --deep: the objects whose size checked out are read back and hashed, one after another,
// with a progress line of the bytes hashed of all of them.
import { hashObject } from '../../core/r2/object-hash.js';
import type { ArchiveSource } from '../../core/r2/object-source.js';
import { Progress } from '../progress.js';

/** An object to hash: its key, how problems name it, and what its record says. */
export interface DeepCheck {
  key: string;
  name: string;
  sha256: string;
  size: number;
}

/** Hashes each object; resolves to the problems found (`name: SHA-256 ... read, ... recorded`). */
export async function hashAll(source: ArchiveSource, bucket: string, checks: DeepCheck[]): Promise<string[]> {
  const total = checks.reduce((sum, check) => sum + check.size, 0);
  const progress = new Progress({
    label: 'verify --deep: hashed',
    unit: 'bytes',
    initial: { done: 0, total, detail: `object 1 of ${checks.length}` },
  });
  const problems: string[] = [];
  let before = 0;
  try {
    for (const [index, check] of checks.entries()) {
      const detail = `object ${index + 1} of ${checks.length}`;
      const read = await hashObject(source, bucket, check.key, (bytes) =>
        progress.update({ done: before + bytes, total, detail }),
      );
      before += check.size;
      if (read.sha256 !== check.sha256 || read.size !== check.size)
        problems.push(`${check.name}: SHA-256 ${read.sha256} read, ${check.sha256} recorded`);
    }
  } finally {
    progress.stop();
  }
  return problems;
}
