// core/tree/size.ts: the tree size bound from its file system, and mount points.
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIB } from '../../../core/upload/uploader.js';
import { estimateTreeBytes, fileSystemBound, mountPoints } from '../../../core/tree/size.js';

describe('the tree size bound from its file system', () => {
  const tree = mkdtempSync(join(tmpdir(), 'bound-'));
  mkdirSync(join(tree, 'sub'));
  writeFileSync(join(tree, 'sub', 'data'), Buffer.alloc(3 * MIB, 7));
  writeFileSync(join(tree, 'small'), 'x');
  const real = realpathSync(tree);
  const mountInfo =
    (...points: string[]) =>
    () =>
      points.map((p, i) => `${30 + i} 1 8:1 / ${p} rw,relatime shared:1 - ext4 /dev/vda rw`).join('\n');

  test('is at least what walking the tree finds', () => {
    const bound = fileSystemBound(tree, mountInfo('/', '/proc'));
    expect(bound).toBeGreaterThanOrEqual(estimateTreeBytes(tree, []));
  });

  test('is unknown when a file system is mounted inside the tree, or mounts cannot be read', () => {
    expect(fileSystemBound(tree, mountInfo('/', `${real}/sub`))).toBeUndefined();
    expect(fileSystemBound(tree, () => undefined)).toBeUndefined();
    // Everything is inside "/".
    expect(fileSystemBound('/', mountInfo('/', '/proc'))).toBeUndefined();
    // A mount beside the tree whose name starts like it is not inside it.
    expect(fileSystemBound(tree, mountInfo('/', `${real}-other`))).toBeDefined();
  });

  test('mount points are read with the kernel escapes undone', () => {
    expect(mountPoints('36 35 98:0 /mnt1 /mnt/my\\040disk rw - ext3 /dev/root rw\n')).toEqual([
      '/mnt/my disk',
    ]);
  });
});
