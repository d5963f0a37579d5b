// core/mirror/spot-check.ts: the spot check's window and what it compares.
import type { ManifestEntry } from '../../../core/mirror/manifest.js';
import { chooseWindowStart, windowMismatch, WINDOW } from '../../../core/mirror/spot-check.js';

const entry = (sha = 'a'.repeat(64), size = 1, etag = 'e'): ManifestEntry => ({ size, etag, sha256: sha });

test('spot check window: every path equally likely, small mirrors checked whole', () => {
  const paths = Array.from({ length: 3000 }, (_, i) => `f${String(i).padStart(5, '0')}`);
  expect(chooseWindowStart(paths.slice(0, WINDOW), () => 0.99)).toBeUndefined();
  expect(chooseWindowStart(paths, () => 0)).toBeUndefined();
  expect(chooseWindowStart(paths, () => 0.999999)).toBe(paths[2998]);
  expect(chooseWindowStart(paths, () => 0.5)).toBe(paths[Math.floor(0.5 * 3999) - 1000]);
});

test('spot check compares only the listed range and ignores paths in doubt', () => {
  const files = { a: entry(), b: entry(), c: entry(), z: entry() };
  const page = (keys: string[], truncated: boolean) => ({
    objects: new Map(keys.map((k) => [k, { size: 1, etag: 'e' }])),
    truncated,
  });
  expect(windowMismatch(files, 'a', page(['b', 'c'], true), new Set())).toBeNull();
  expect(windowMismatch(files, 'a', page(['b', 'c'], false), new Set())).toBe(
    'z is in the manifest but not stored',
  );
  expect(windowMismatch(files, undefined, page(['a', 'b', 'c', 'x', 'z'], false), new Set())).toBe(
    'x is stored but not in the manifest',
  );
  expect(windowMismatch(files, undefined, page(['a', 'b', 'c', 'x', 'z'], false), new Set(['x']))).toBeNull();
  const other = page(['a', 'b', 'c', 'z'], false);
  other.objects.set('b', { size: 1, etag: 'other' });
  expect(windowMismatch(files, undefined, other, new Set())).toBe('b differs from the manifest');
});
