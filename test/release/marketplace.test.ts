// Both actions are ready for the GitHub Marketplace: a name, a short description, an author and
// branding, every input and output described, the node24 runtime; and the restore sub-action's
// README documents exactly the inputs and outputs of restore/action.yml. (action-validator
// checks the icon name against GitHub's list in test/action/dist.test.ts.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-stack.js';
import { actionEntries, markdownTables } from '../action/action-yml.js';

// The colours GitHub's metadata syntax allows for `branding.color`.
const COLORS = ['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark'];

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const topLevel = (yml: string, key: string): string | undefined =>
  new RegExp(`^${key}: (.+)$`, 'm').exec(yml)?.[1]?.trim();

test.each([
  ['action.yml', 'dist/index.js'],
  ['restore/action.yml', '../dist/restore/index.js'],
])('%s has what a Marketplace listing needs', (file, main) => {
  const yml = read(file);
  const listing = {
    name: topLevel(yml, 'name'),
    description: topLevel(yml, 'description'),
    author: topLevel(yml, 'author'),
    branding: /^branding:\n {2}icon: (\S+)\n {2}color: (\S+)$/m.exec(yml)?.slice(1),
  };
  expect(listing).toEqual({
    name: expect.stringMatching(/^R2 Repository /),
    description: expect.any(String),
    author: 'r2-backup-action contributors',
    branding: [expect.stringMatching(/^[a-z0-9-]+$/), expect.any(String)],
  });
  // The Marketplace shows the description on one card: keep it within 125 characters.
  expect(listing.description!.length).toBeLessThanOrEqual(125);
  expect(COLORS).toContain(listing.branding![1]);
  const entries = [...actionEntries(yml, 'inputs'), ...actionEntries(yml, 'outputs')];
  expect(entries.length).toBeGreaterThan(10);
  for (const { name, description } of entries) {
    expect({ name, described: description.length > 10 }).toEqual({ name, described: true });
  }
  expect(yml).toContain(`\nruns:\n  using: node24\n  main: ${main}\n`);
});

/** A Markdown table's rows as trimmed cells, whatever the column padding. */
const rows = (table: string): string[][] =>
  table
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );

test('restore/README.md has the input and output tables of restore/action.yml', () => {
  const doc = read('restore/README.md');
  const tables = markdownTables(read('restore/action.yml'));
  const section = (title: string): string => doc.split(`## ${title}\n`)[1]!.split('\n## ')[0]!;
  expect(rows(section('Inputs'))).toEqual(rows(tables.inputs));
  expect(rows(section('Outputs'))).toEqual(rows(tables.outputs));
});
