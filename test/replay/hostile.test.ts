// replay of an export that is not what the exporter writes (a bucket is only as trustworthy as
// its keys): items with fields of the wrong type are left out with a warning and the rest is
// replayed; an asset file that is a link is never read (it could upload any file of the machine);
// a tag the target already uses is left alone. And the CLI's own checks: the token from the
// environment only, a target named owner/name, the pause between writes.
import { mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetPath, kindFile } from '../../core/github/export-format.js';
import { runCli } from '../cli/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';
import { writeExport } from './helpers.js';

const SOURCE = 'acme/source';
let github: FakeGitHub;
let scratch: string;

const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  GITHUB_API_URL: github.apiUrl,
  GITHUB_TOKEN: github.token,
  GH_TOKEN: '',
  R2_BACKUP_GITHUB_WRITE_GAP_MS: '0',
  ...extra,
});

beforeAll(async () => {
  github = await startFakeGitHub();
  github.seed(SOURCE, {
    labels: 2,
    issues: 3,
    commentsPerIssue: 1,
    releases: 2,
    assetsPerRelease: 1,
    closedEvery: 0,
  });
  scratch = await mkdtemp(join(tmpdir(), 'replay-hostile-'));
});

afterAll(async () => {
  await github?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('invalid items are left out with a warning, linked asset files are not read, the rest is replayed', async () => {
  const dir = join(scratch, 'hostile');
  const secret = join(scratch, 'secret.txt');
  await writeFile(secret, 'not for GitHub');
  await writeExport(github, SOURCE, dir, (items) => {
    items.labels[0]!.color = 'red;}';
    // Deleted from the source after an earlier export: replayed all the same (that is how it
    // comes back).
    items.labels[1]!.r2_backup_missing_since = '2026-01-01T00:00:00Z';
    items.issues[1]!.title = 42;
    (items.issues[2]!.user as Record<string, unknown>).login = '`@everyone`';
    items.issue_comments[0]!.body = { text: 'not a string' };
    items.milestones.push({ id: 1, title: 'Bad', state: 'deleted' });
  });
  await writeFile(join(dir, kindFile('issues')), '{"number": \n', { flag: 'a' });
  // The second release's asset: a link to a file outside the export, of the same size.
  const release = github.repo(SOURCE).releases[1]!;
  const linked = join(dir, assetPath(release.id, release.assets[0]!.id));
  await unlink(linked);
  await writeFile(secret, Buffer.alloc(release.assets[0]!.bytes.length, 65));
  await symlink(secret, linked);

  const target = 'acme/from-hostile';
  github.addRepository(target);
  const result = await runCli(['replay', '--from-dir', dir, '--to', target], env());
  expect(result.code).toBe(0);
  expect(result.stderr).toContain(
    'Warning: labels.jsonl item 1: color is not 6 hexadecimal digits; left out',
  );
  expect(result.stderr).toContain('Warning: issues.jsonl item 2: title is not a string; left out');
  expect(result.stderr).toContain('Warning: issues.jsonl line 4: not JSON; left out');
  expect(result.stderr).toContain('Warning: issue-comments.jsonl item 1: body is not a string; left out');
  expect(result.stderr).toContain(
    'Warning: milestones.jsonl item 1: state is neither open nor closed; left out',
  );
  expect(result.stderr).toMatch(
    /Warning: release "v2.0.0": asset "asset-1.bin" is not a regular file with one link/,
  );

  const replayed = github.repo(target);
  expect(replayed.labels.map((l) => l.name)).toEqual(['label-2']);
  expect([...replayed.items.values()].map((i) => i.title)).toEqual(['Issue 1', 'Issue 3']);
  // The first issue's label was left out: the issue is replayed without it (GitHub would
  // otherwise create it with its default color).
  expect([...replayed.items.values()][0]!.labels).toEqual([]);
  // A login that is not one reads as ghost, GitHub's deleted account.
  expect([...replayed.items.values()][1]!.body).toContain('by `ghost` on');
  expect(replayed.issueComments).toHaveLength(1);
  expect(replayed.releases.map((r) => r.tag_name)).toEqual(['v1.0.0', 'v2.0.0']);
  expect(replayed.releases[0]!.assets).toHaveLength(1);
  expect(replayed.releases[1]!.assets).toEqual([]);
});

test('a release whose tag the target already has is left alone, and named in the plan', async () => {
  const dir = join(scratch, 'plain');
  await writeExport(github, SOURCE, dir);
  const target = 'acme/tagged';
  github.addRepository(target).addRelease({ tag_name: 'v1.0.0', name: 'Already there' });
  const dry = await runCli(['replay', '--from-dir', dir, '--to', target, '--dry-run'], env());
  expect(dry.code).toBe(0);
  expect(dry.stdout).toMatch(/releases\s+1 to create, 0 already there, 1 tag taken/);
  expect(dry.stdout).toContain(
    '! release "v1.0.0": the target has another release of that tag; not replayed',
  );
  const run = await runCli(['replay', '--from-dir', dir, '--to', target], env());
  expect(run.code).toBe(0);
  const releases = github.repo(target).releases;
  expect(releases.map((r) => [r.tag_name, r.name, r.assets.length])).toEqual([
    ['v1.0.0', 'Already there', 0],
    ['v2.0.0', 'Version 2.0.0', 1],
  ]);
});

test("an issue written by someone else with a source issue's marker does not take its place", async () => {
  const dir = join(scratch, 'forged');
  await writeExport(github, SOURCE, dir);
  const target = 'acme/forged';
  const first = [...github.repo(SOURCE).items.values()].sort((a, b) => a.number - b.number)[0]!;
  // Anyone who may open an issue can end its body with the marker replay would write.
  const forged = github.addRepository(target).addIssue({
    title: 'Looks replayed',
    body: `nothing to see\n\n<!-- r2-backup:issue ${SOURCE}#${first.number} -->`,
    user: 'mallory',
  });
  const run = await runCli(['replay', '--from-dir', dir, '--to', target], env());
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(
    `Issue #${forged.number} in ${target} ends with the marker of issue ${first.number} of ${SOURCE} but was written by mallory`,
  );
  const issues = [...github.repo(target).items.values()];
  // Every source issue was created by the replay's writer, the forged one left as it was.
  expect(issues.filter((i) => i.user === 'replay-writer')).toHaveLength(3);
  expect(issues.find((i) => i.number === forged.number)).toMatchObject({ state: 'open', user: 'mallory' });
  expect(github.repo(target).issueComments.filter((c) => c.issue_number === forged.number)).toEqual([]);
  // And a second run finds the replay's own issues: nothing more is created.
  const again = await runCli(['replay', '--from-dir', dir, '--to', target, '--dry-run', '--json'], env());
  const plan = JSON.parse(again.stdout) as { plan: Record<string, { create: number }> };
  expect(plan.plan.issues!.create).toBe(0);
});

test('writes are spaced by R2_BACKUP_GITHUB_WRITE_GAP_MS', async () => {
  const dir = join(scratch, 'labels');
  await writeExport(github, SOURCE, dir, (items) => {
    for (const kind of ['issues', 'issue_comments', 'releases'] as const) items[kind] = [];
  });
  const target = 'acme/spaced';
  github.addRepository(target);
  const started = Date.now();
  const run = await runCli(
    ['replay', '--from-dir', dir, '--to', target],
    env({ R2_BACKUP_GITHUB_WRITE_GAP_MS: '700' }),
  );
  expect(run.code).toBe(0);
  expect(github.repo(target).labels).toHaveLength(2);
  // Two writes, one pause between them.
  expect(Date.now() - started).toBeGreaterThanOrEqual(700);
});

describe('usage', () => {
  test('the token comes from GITHUB_TOKEN or GH_TOKEN', async () => {
    const none = await runCli(['replay', '--from-dir', scratch, '--to', 'acme/x'], env({ GITHUB_TOKEN: '' }));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('set GITHUB_TOKEN (or GH_TOKEN)');
    const flag = await runCli(['replay', '--from-dir', scratch, '--to', 'acme/x', '--token', 'x'], env());
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--token'");
  });

  test('--to must be owner/name', async () => {
    for (const to of ['acme', 'acme/x/y', '../x', 'acme/x y']) {
      const run = await runCli(['replay', '--from-dir', scratch, '--to', to], env());
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--to must name the target repository as owner/name');
    }
  });

  test('a target the token cannot see is named, with exit code 3', async () => {
    const dir = join(scratch, 'missing-target');
    await writeExport(github, SOURCE, dir);
    const run = await runCli(['replay', '--from-dir', dir, '--to', 'acme/nowhere'], env());
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      'The target repository acme/nowhere was not found (or the token cannot see it)',
    );
  });
});
