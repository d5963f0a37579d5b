// Pure parts of the mirror: the plan, the spot check's window and Content-Type.
import { contentTypeOf } from '../../core/mirror/content-type.js';
import type { LocalFile } from '../../core/mirror/local-tree.js';
import type { ManifestEntry } from '../../core/mirror/manifest.js';
import { planMirror } from '../../core/mirror/plan.js';
import { chooseWindowStart, windowMismatch, WINDOW } from '../../core/mirror/spot-check.js';

const file = (path: string, sha = 'a'.repeat(64), size = 1): LocalFile => ({
  path,
  absolute: `/x/${path}`,
  size,
  sha256: sha,
});
const entry = (sha = 'a'.repeat(64), size = 1, etag = 'e'): ManifestEntry => ({ size, etag, sha256: sha });

test('plan: same size and hash unchanged; anything else uploaded; gone deleted or kept', () => {
  const known = new Map([
    ['same', entry()],
    ['changed', entry('b'.repeat(64))],
    ['resized', entry(undefined, 2)],
    ['unhashed', { size: 1, etag: 'e' }],
    ['gone', entry()],
  ]);
  const local = ['same', 'changed', 'resized', 'unhashed', 'doubt', 'new'].map((p) => file(p));
  const stored = { known, unknown: new Set(['doubt', 'doubt-gone']) };
  const plan = planMirror(local, stored, true);
  expect(plan.unchanged.map((f) => f.path)).toEqual(['same']);
  expect(plan.uploads.map((f) => f.path)).toEqual(['changed', 'resized', 'unhashed', 'doubt', 'new']);
  expect(plan.deletes).toEqual(['gone', 'doubt-gone']);
  expect(planMirror(local, { known, unknown: new Set() }, false)).toMatchObject({
    deletes: [],
    kept: ['gone'],
  });
});

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

test('Content-Type: source as text, known binaries by type, the rest octet-stream', () => {
  expect(contentTypeOf('src/a.ts')).toBe('text/plain; charset=utf-8');
  expect(contentTypeOf('web/index.HTML')).toBe('text/plain; charset=utf-8');
  expect(contentTypeOf('Dockerfile')).toBe('text/plain; charset=utf-8');
  expect(contentTypeOf('.gitignore')).toBe('text/plain; charset=utf-8');
  expect(contentTypeOf('a/b.json')).toBe('application/json');
  expect(contentTypeOf('img/x.jpeg')).toBe('image/jpeg');
  expect(contentTypeOf('bin/tool')).toBe('application/octet-stream');
  expect(contentTypeOf('x.unknownext')).toBe('application/octet-stream');
});
