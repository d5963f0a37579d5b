// r2-backup replay --from-dir against the fake GitHub: the export of a seeded source repository
// replayed into an empty target (dry run, real run, second run), and a run cut short by a rate
// limit then finished by a second one, through `node dist/cli/index.js`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marker } from '../../core/github/markers.js';
import { runCli } from '../cli/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';
import { contentOf, writeExport } from './helpers.js';

const SOURCE = 'acme/source';
let github: FakeGitHub;
let scratch: string;
let exportDir: string;

const env = (): Record<string, string> => ({
  GITHUB_API_URL: github.apiUrl,
  GITHUB_TOKEN: github.token,
  GH_TOKEN: '',
  R2_BACKUP_GITHUB_WRITE_GAP_MS: '0',
});
const replay = (to: string, ...flags: string[]) =>
  runCli(['replay', '--from-dir', exportDir, '--to', to, ...flags], env());
const writes = () => github.requests.filter((r) => r.method !== 'GET');

beforeAll(async () => {
  github = await startFakeGitHub();
  const source = github.seed(SOURCE, {
    labels: 3,
    milestones: 2,
    issues: 6,
    pulls: 2,
    commentsPerIssue: 2,
    releases: 2,
    assetsPerRelease: 2,
    assetBytes: 3000,
    closedEvery: 3,
  });
  // What the seed does not vary: a closed milestone with a due date, a not-planned close, a
  // prerelease with a labelled asset.
  source.updateMilestone(2, { state: 'closed', due_on: '2030-01-01T08:00:00Z' });
  const closed = [...source.items.values()].find((i) => !i.pull && i.state === 'closed')!;
  closed.state_reason = 'not_planned';
  source.updateRelease(source.releases[1]!.id, { prerelease: true });
  source.releases[1]!.assets[0]!.label = 'The first asset';
  scratch = await mkdtemp(join(tmpdir(), 'replay-test-'));
  exportDir = join(scratch, 'export');
  await writeExport(github, SOURCE, exportDir);
}, 30_000);

afterAll(async () => {
  await github?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('replay into an empty repository', () => {
  const TARGET = 'acme/target';
  beforeAll(() => void github.addRepository(TARGET));

  test('--dry-run prints the plan and sends only reads', async () => {
    github.requests.reset();
    const result = await replay(TARGET, '--dry-run');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Replay of ${SOURCE} into ${TARGET}:`);
    expect(result.stdout).toMatch(/labels\s+3 to create, 0 already there/);
    expect(result.stdout).toMatch(/milestones\s+2 to create, 0 already there/);
    expect(result.stdout).toMatch(/issues\s+6 to create, 0 already there/);
    expect(result.stdout).toMatch(/comments\s+12 to create, 0 already there/);
    expect(result.stdout).toMatch(/releases\s+2 to create, 0 already there/);
    expect(result.stdout).toMatch(/assets\s+4 to create, 0 already there/);
    expect(result.stdout).toContain('2 pull requests (and 4 comments on them) not replayed');
    expect(result.stdout).toContain('r2-backup restore --metadata');
    for (const issue of contentOf(github, SOURCE).issues)
      expect(result.stdout).toContain(`${JSON.stringify(issue.title)} (${issue.state})`);
    expect(result.stdout).toContain('+ asset "asset-1.bin" of release "v2.0.0" (3000 bytes)');
    expect(github.requests.count()).toBeGreaterThan(0);
    expect(writes()).toEqual([]);
    expect(github.repo(TARGET).items.size).toBe(0);
  });

  test('a replay recreates the source, with the original authors, dates and markers quoted', async () => {
    github.requests.reset();
    const result = await replay(TARGET);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Replayed ${SOURCE} into ${TARGET}: created 3 labels, 2 milestones, 6 issues, 12 comments, 2 releases, 4 assets; closed 2 issues.`,
    );
    const expected = contentOf(github, SOURCE);
    expect(contentOf(github, TARGET)).toEqual(expected);
    expect(github.requests.all.every((r) => !r.path.includes(github.token))).toBe(true);
    expect(result.stderr).not.toContain(github.token);

    const source = github.repo(SOURCE);
    const target = github.repo(TARGET);
    const sourceIssues = [...source.items.values()].filter((i) => !i.pull);
    const targetIssues = [...target.items.values()];
    for (const [k, original] of sourceIssues.entries()) {
      const replayed = targetIssues[k]!;
      expect(replayed.body).toContain(`by \`${original.user}\` on ${original.created_at}`);
      expect(replayed.body).toContain(`${github.apiUrl}/${SOURCE}/issues/${original.number}`);
      expect(replayed.body).toContain(original.body!);
      expect(replayed.body!.endsWith(marker('issue', SOURCE, original.number))).toBe(true);
      const originals = source.issueComments.filter((c) => c.issue_number === original.number);
      const comments = target.issueComments.filter((c) => c.issue_number === replayed.number);
      expect(comments.map((c) => c.body.split('\n\n')[1])).toEqual(originals.map((c) => c.body));
      for (const [j, comment] of comments.entries())
        expect(comment.body.endsWith(marker('comment', SOURCE, originals[j]!.id))).toBe(true);
    }
    for (const [k, release] of target.releases.entries()) {
      expect(release.body).toContain(source.releases[k]!.body!);
      expect(release.body!.endsWith(marker('release', SOURCE, source.releases[k]!.id))).toBe(true);
    }
    expect(target.releases[1]!.assets[0]!.label).toBe('The first asset');
    // One write per item (and per close): nothing was sent twice.
    expect(writes().length).toBe(3 + 2 + 6 + 12 + 2 + 2 + 4);
  });

  test('a second replay creates nothing', async () => {
    github.requests.reset();
    const dry = await replay(TARGET, '--dry-run', '--json');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as { plan: Record<string, { create: number; existing: number }> };
    expect(plan.plan.issues).toEqual({ create: 0, existing: 6, close: 0 });
    expect(plan.plan.comments).toEqual({ create: 0, existing: 12 });
    expect(plan.plan.assets).toEqual({ create: 0, existing: 4 });
    const before = contentOf(github, TARGET);
    const again = await replay(TARGET);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Nothing to replay: ${TARGET} already has everything of ${SOURCE}.`);
    expect(writes()).toEqual([]);
    expect(contentOf(github, TARGET)).toEqual(before);
  });
});

describe('a replay cut short by a rate limit', () => {
  const TARGET = 'acme/cut';
  beforeAll(() => void github.addRepository(TARGET));
  afterAll(() => github.limits.setPrimary({ limit: 5000, remaining: 5000, resetInSeconds: 3600 }));

  test('stops, and the next run finishes it without duplicates', async () => {
    // The five reads of the target, then fifteen writes: the labels, the milestones and part
    // of the issues; the limit resets in two hours, longer than the replay may wait.
    github.limits.setPrimary({ limit: 5000, remaining: 5 + 15, resetInSeconds: 7200 });
    const cut = await replay(TARGET);
    // Exit code 4: a limit that resets later, not a problem with what was asked.
    expect(cut.code).toBe(4);
    expect(cut.stderr).toContain('rate limit');
    expect(cut.stderr).toContain('run it again to finish');
    const partial = contentOf(github, TARGET);
    const expected = contentOf(github, SOURCE);
    expect(partial.issues.length).toBeGreaterThan(0);
    expect(partial.issues.length).toBeLessThan(expected.issues.length);

    github.limits.setPrimary({ limit: 5000, remaining: 5000, resetInSeconds: 3600 });
    const dry = await replay(TARGET, '--dry-run', '--json');
    const plan = JSON.parse(dry.stdout) as { plan: Record<string, { create: number; existing: number }> };
    expect(plan.plan.labels).toEqual({ create: 0, existing: 3 });
    expect(plan.plan.issues!.existing).toBe(partial.issues.length);

    const rest = await replay(TARGET);
    expect(rest.code).toBe(0);
    expect(contentOf(github, TARGET)).toEqual(expected);
  });
});
