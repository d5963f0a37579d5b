// The release script's pure parts: CHANGELOG.md's Unreleased section moved under a version,
// a version's entry read back (the release notes), and the versions it accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-stack.js';
import { changelogEntry, releaseChangelog } from '../../scripts/release/changelog.js';
import { compareVersions, parseVersion } from '../../scripts/release/semver.js';

const BASE = 'https://github.com/acme/r2-backup-action';
const changelog = (unreleased: string): string =>
  [
    '# Changelog',
    '',
    'Intro.',
    '',
    '## [Unreleased]',
    '',
    unreleased,
    '## [1.0.0] - 2026-11-30',
    '',
    '### Added',
    '',
    '- Everything.',
    '',
    `[Unreleased]: ${BASE}/compare/v1.0.0...HEAD`,
    `[1.0.0]: ${BASE}/releases/tag/v1.0.0`,
    '',
  ].join('\n');

test('the Unreleased entries move under the new version, and the links follow', () => {
  const released = releaseChangelog(changelog('### Fixed\n\n- A bug.\n'), '1.0.1', '2026-12-01');
  expect(released).toBe(
    [
      '# Changelog',
      '',
      'Intro.',
      '',
      '## [Unreleased]',
      '',
      '## [1.0.1] - 2026-12-01',
      '',
      '### Fixed',
      '',
      '- A bug.',
      '',
      '## [1.0.0] - 2026-11-30',
      '',
      '### Added',
      '',
      '- Everything.',
      '',
      `[Unreleased]: ${BASE}/compare/v1.0.1...HEAD`,
      `[1.0.1]: ${BASE}/compare/v1.0.0...v1.0.1`,
      `[1.0.0]: ${BASE}/releases/tag/v1.0.0`,
      '',
    ].join('\n'),
  );
  expect(changelogEntry(released, '1.0.1')).toBe('### Fixed\n\n- A bug.');
  expect(changelogEntry(released, '1.0.0')).toBe('### Added\n\n- Everything.');
  // A second release builds on the first.
  const again = releaseChangelog(
    released.replace('## [Unreleased]\n', '## [Unreleased]\n\n- More.\n'),
    '1.1.0',
    'D',
  );
  expect(again).toContain(
    `[Unreleased]: ${BASE}/compare/v1.1.0...HEAD\n[1.1.0]: ${BASE}/compare/v1.0.1...v1.1.0\n`,
  );
  expect(changelogEntry(again, '1.1.0')).toBe('- More.');
});

test('an empty Unreleased section, a version already there or no Unreleased link is refused', () => {
  expect(() => releaseChangelog(changelog(''), '1.0.1', 'D')).toThrow(/nothing under "## \[Unreleased\]"/);
  expect(() => releaseChangelog(changelog('- x\n'), '1.0.0', 'D')).toThrow(
    /already has a section for 1\.0\.0/,
  );
  const unlinked = changelog('- x\n').replace(/^\[Unreleased\]:.*\n/m, '');
  expect(() => releaseChangelog(unlinked, '1.0.1', 'D')).toThrow(/no link reference "\[Unreleased\]/);
  expect(() => releaseChangelog('# Changelog\n', '1.0.1', 'D')).toThrow(/no "## \[Unreleased\]" heading/);
});

test('a version with no section has no entry; names are matched literally', () => {
  expect(changelogEntry(changelog(''), '2.0.0')).toBeNull();
  expect(changelogEntry(changelog(''), '1.0.0'.replace(/\./g, '*'))).toBeNull();
  expect(changelogEntry(changelog(''), '1x0x0')).toBeNull();
});

test("the repository's CHANGELOG.md has the shape the release script needs", () => {
  const text = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
  expect(changelogEntry(text, version)).toMatch(/^### (Added|Changed|Deprecated|Removed|Fixed|Security)$/m);
  // Releasing once something is listed under Unreleased works on it as it is.
  const next = releaseChangelog(text.replace('## [Unreleased]\n', '## [Unreleased]\n\n- x\n'), '99.0.0', 'D');
  expect(changelogEntry(next, '99.0.0')).toBe('- x');
});

test('versions are MAJOR.MINOR.PATCH, compared numerically', () => {
  expect(parseVersion('1.2.3', 'v')).toEqual({ major: 1, minor: 2, patch: 3 });
  for (const bad of ['v1.2.3', '1.2', '1.2.3-rc.1', '01.2.3', '1.2.3 ', 'one']) {
    expect(() => parseVersion(bad, 'The version')).toThrow(`The version "${bad}" is not a version`);
  }
  const order = ['0.9.9', '1.0.0', '1.0.1', '1.2.0', '1.10.0', '2.0.0'].map((v) => parseVersion(v, 'v'));
  for (let i = 1; i < order.length; i++) expect(compareVersions(order[i - 1]!, order[i]!)).toBeLessThan(0);
  expect(compareVersions(parseVersion('1.2.3', 'v'), parseVersion('1.2.3', 'v'))).toBe(0);
});
