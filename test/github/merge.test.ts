// One kind's merge: previous items not fetched again are carried (once each), fetched ones
// replace them, the last answer for a key wins, and a whole list marks what it no longer has.
import { expect, test } from '@jest/globals';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeKind } from '../../core/github/merge.js';

const lines = (items: object[]): string => items.map((item) => `${JSON.stringify(item)}\n`).join('');
async function* previous(items: { id: number; v: string; r2_backup_missing_since?: string }[]) {
  for (const item of items) yield { key: item.id, item: { ...item } };
}

test('fetched items replace previous ones by key, the last fetched wins, previous duplicates are carried once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'merge-'));
  await writeFile(
    join(dir, 'fetched.jsonl'),
    lines([
      { id: 1, v: 'new' },
      { id: 3, v: 'new' },
      { id: 1, v: 'newer' },
    ]),
  );
  const result = await mergeKind({
    kind: 'issue_comments',
    fetched: join(dir, 'fetched.jsonl'),
    previous: previous([
      { id: 1, v: 'old' },
      { id: 2, v: 'old' },
      { id: 2, v: 'again' },
    ]),
    out: join(dir, 'out.jsonl'),
  });
  expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe(
    lines([
      { id: 2, v: 'old' },
      { id: 3, v: 'new' },
      { id: 1, v: 'newer' },
    ]),
  );
  expect(result).toEqual({ count: 3, carried: 1, newlyMissing: 0 });
});

test('a whole list marks the previous items it no longer has, keeping an earlier mark', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'merge-'));
  await writeFile(join(dir, 'fetched.jsonl'), lines([{ id: 1, v: 'back' }]));
  const result = await mergeKind({
    kind: 'labels',
    fetched: join(dir, 'fetched.jsonl'),
    previous: previous([
      { id: 1, v: 'gone before', r2_backup_missing_since: '2026-01-01T00:00:00Z' },
      { id: 2, v: 'gone now' },
      { id: 3, v: 'gone before', r2_backup_missing_since: '2026-01-01T00:00:00Z' },
    ]),
    out: join(dir, 'out.jsonl'),
    missingSince: '2026-02-01T00:00:00Z',
  });
  expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe(
    lines([
      { id: 2, v: 'gone now', r2_backup_missing_since: '2026-02-01T00:00:00Z' },
      { id: 3, v: 'gone before', r2_backup_missing_since: '2026-01-01T00:00:00Z' },
      { id: 1, v: 'back' },
    ]),
  );
  expect(result).toEqual({ count: 3, carried: 2, newlyMissing: 1 });
});
