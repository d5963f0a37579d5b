// The rendering of a metadata export (core/github/render.ts) on its own: what a person reads,
// in order, with GitHub's text unable to break the Markdown or choose a file name; an export
// holding a link or a line that is not an object is refused before anything is written.
import {
  appendFileSync,
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kindFile, MANIFEST_FILE } from '../../core/github/export-format.js';
import { RefusedExportError } from '../../core/github/export-index.js';
import { renderExport } from '../../core/github/render.js';
import {
  ASSET_IDS,
  HIDDEN_BODY,
  HOSTILE_TITLE,
  MISSING_ASSET_ID,
  RELEASE_ID,
  exportFixture,
  writeExport,
} from './metadata-fixture.js';

const work = mkdtempSync(join(tmpdir(), 'r2-backup-render-'));
let count = 0;
const fresh = (): { exportDir: string; outDir: string } => {
  count++;
  return { exportDir: join(work, `export-${count}`), outDir: join(work, `out-${count}`) };
};

describe('a rendered export', () => {
  const fixture = exportFixture();
  const { exportDir, outDir } = fresh();
  let rendered: Awaited<ReturnType<typeof renderExport>>;
  const read = (path: string): string => readFileSync(join(outDir, path), 'utf8');

  beforeAll(async () => {
    writeExport(exportDir, fixture);
    rendered = await renderExport(exportDir, outDir);
  });

  test('reports the counts of every kind and the assets placed, and whether it is partial', () => {
    const expected = Object.fromEntries(
      Object.entries(fixture.items).map(([kind, list]) => [kind, list.length]),
    );
    expect(rendered).toEqual({
      repository: fixture.manifest.repository,
      exported_at: fixture.manifest.exported_at,
      partial: false,
      counts: { ...expected, assets: fixture.assets.size },
    });
  });

  test('README.md names the repository and links every issue, pull request and release', () => {
    const readme = read('README.md');
    expect(readme.split('\n')[0]).toBe(`# ${fixture.manifest.repository}`);
    expect(readme).toContain('- Default branch: main');
    expect(readme).toContain('- Topics: backup, r2');
    expect(readme).toContain('- Complete export');
    for (const { number } of fixture.items.issues) expect(readme).toContain(`](issues/${String(number)}.md)`);
    for (const { number } of fixture.items.pulls) expect(readme).toContain(`](pulls/${String(number)}.md)`);
    expect(readme).toContain(`](releases/${RELEASE_ID}.md)`);
    expect(readdirSync(join(outDir, 'issues')).sort()).toEqual(
      fixture.items.issues.map(({ number }) => `${String(number)}.md`).sort(),
    );
  });

  test('a title with line breaks stays on its heading line; a body cannot hide text in HTML', () => {
    const issue = read('issues/1.md').split('\n');
    expect(issue[0]!.startsWith(`# #1 ${HOSTILE_TITLE.split('\n')[0]!} `)).toBe(true);
    expect(issue[0]).toContain('Injected heading');
    // Nothing of the title starts a line of its own.
    expect(issue.filter((line) => line.includes('Injected heading'))).toHaveLength(1);
    expect(issue.some((line) => line.startsWith('# Injected'))).toBe(false);
    const hiddenLines = HIDDEN_BODY.split('\n');
    for (const part of hiddenLines) {
      const line = issue.find((candidate) => candidate.includes(part.replace(/</g, '&lt;')));
      expect(line).toBeDefined();
      expect(line!.startsWith('> ')).toBe(true);
    }
    expect(issue.join('\n')).not.toContain('<!--');
    expect(issue.join('\n')).not.toContain('<script');
  });

  test('an issue has its labels, milestone and comments, oldest first', () => {
    const issue = read('issues/1.md');
    expect(issue).toContain('- Labels: bug');
    expect(issue).toContain('- Milestone: v1');
    expect(issue).toContain('@mallory');
    const first = issue.indexOf('First comment');
    const second = issue.indexOf('Second comment');
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(issue).not.toContain('Looks good'); // the pull request's comment
  });

  test('a pull request has its refs, merge, comments, reviews and review comments', () => {
    const pull = read('pulls/2.md');
    const [item] = fixture.items.pulls as [Record<string, Record<string, string>>];
    expect(pull).toContain(`- Head: feature at ${item.head!.sha}`);
    expect(pull).toContain(`- Base: main at ${item.base!.sha}`);
    expect(pull).toContain('- Merged on 2026-01-05T00:00:00Z');
    expect(pull).toContain('Looks good');
    expect(pull).toMatch(/### APPROVED by @carol[^\n]*\n\n> Ship it/);
    expect(pull).toMatch(/### @carol on src\/feature\.ts line 7[^\n]*\n\n> Nice line/);
  });

  test('release assets are copied beside the release under sanitized, id-prefixed names', () => {
    const names = readdirSync(join(outDir, 'releases', String(RELEASE_ID)));
    expect(names).toHaveLength(ASSET_IDS.length);
    for (const id of ASSET_IDS) {
      const name = names.find((candidate) => candidate.startsWith(`${id}-`));
      expect(name).toMatch(/^[0-9]+-[A-Za-z0-9._-]+$/);
      expect(readFileSync(join(outDir, 'releases', String(RELEASE_ID), name!))).toEqual(
        fixture.assets.get(id),
      );
      expect(read(`releases/${RELEASE_ID}.md`)).toContain(`](${RELEASE_ID}/${name!})`);
    }
    const release = read(`releases/${RELEASE_ID}.md`);
    expect(release.split('\n')[0]).toBe('# v1.0.0 First release');
    expect(release).toMatch(/not-exported\.bin \(5 bytes\): not in this export/);
    expect(existsSync(join(outDir, 'releases', String(RELEASE_ID), String(MISSING_ASSET_ID)))).toBe(false);
  });

  test('nothing is written outside the output directory', () => {
    expect(existsSync(join(work, 'etc'))).toBe(false);
    expect(readdirSync(outDir).sort()).toEqual(['README.md', 'issues', 'pulls', 'releases']);
  });
});

test('a partial export says so in README.md and in what the rendering reports', async () => {
  const { exportDir, outDir } = fresh();
  const fixture = exportFixture(true);
  writeExport(exportDir, fixture);
  const rendered = await renderExport(exportDir, outDir);
  expect(rendered.partial).toBe(true);
  expect(rendered.partial_reason).toBe(fixture.manifest.partial_reason);
  expect(readFileSync(join(outDir, 'README.md'), 'utf8')).toContain('**Partial export**');
});

describe('refused exports write nothing', () => {
  test.each([
    [
      'a symbolic link',
      (dir: string) => symlinkSync('/etc/passwd', join(dir, 'assets', String(RELEASE_ID), '99')),
    ],
    ['a hard link', (dir: string) => linkSync(join(dir, MANIFEST_FILE), join(dir, 'assets', 'copy'))],
    [
      'a JSONL line that is not an object',
      (dir: string) => appendFileSync(join(dir, kindFile('issues')), '[1,2]\n'),
    ],
    [
      'a JSONL line that is not JSON',
      (dir: string) => appendFileSync(join(dir, kindFile('reviews')), '{"id":\n'),
    ],
    [
      'an issue number that is not a positive integer',
      (dir: string) => appendFileSync(join(dir, kindFile('issues')), '{"number":"../x"}\n'),
    ],
    [
      'a manifest of another format',
      (dir: string) =>
        writeFileSync(
          join(dir, MANIFEST_FILE),
          JSON.stringify({ format: 'other', repository: 'x', partial: false }),
        ),
    ],
  ])('%s', async (_what, spoil) => {
    const { exportDir, outDir } = fresh();
    writeExport(exportDir, exportFixture());
    spoil(exportDir);
    await expect(renderExport(exportDir, outDir)).rejects.toThrow(RefusedExportError);
    expect(existsSync(outDir)).toBe(false);
  });
});
