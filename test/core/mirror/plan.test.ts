// core/mirror/plan.ts: what a sync uploads, deletes, keeps and leaves alone.
import type { LocalFile } from '../../../core/mirror/local-tree.js';
import type { ManifestEntry } from '../../../core/mirror/manifest.js';
import { planMirror } from '../../../core/mirror/plan.js';

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
