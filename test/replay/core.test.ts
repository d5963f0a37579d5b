// replayExport in process, where a test can reach between its requests: an asset upload refused
// by a secondary rate limit is sent again with the whole file (the body is read anew, not a spent
// stream); and the bodies it writes stay within GitHub's limit, marker kept.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitHubClient } from '../../core/github/client.js';
import { applyLimits } from '../../core/github/limits.js';
import { marker } from '../../core/github/markers.js';
import { MAX_BODY, replayedBody } from '../../core/github/replay-bodies.js';
import { replayExport } from '../../core/github/replay.js';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';
import { writeExport } from './helpers.js';

const SOURCE = 'acme/source';
let github: FakeGitHub;
let scratch: string;

beforeAll(async () => {
  github = await startFakeGitHub();
  github.seed(SOURCE, { releases: 1, assetsPerRelease: 2, assetBytes: 200_000 });
  scratch = await mkdtemp(join(tmpdir(), 'replay-core-'));
});

afterAll(async () => {
  await github?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('an asset upload refused by a secondary rate limit is sent again whole', async () => {
  const dir = join(scratch, 'export');
  await writeExport(github, SOURCE, dir);
  github.addRepository('acme/target');
  const api = createGitHubClient({ token: github.token, baseUrl: github.apiUrl });
  const lines: string[] = [];
  const waits: number[] = [];
  applyLimits(api, {
    log: (line) => lines.push(line),
    maxWaitSeconds: 60,
    sleep: async (ms) => void waits.push(ms),
  });
  let armed = false;
  api.hook.before('request', (options) => {
    if (!armed && String(options.url).startsWith(github.uploadsUrl)) {
      armed = true;
      github.limits.secondaryOnce(1, 2);
    }
  });
  const result = await replayExport({
    api,
    exportDir: dir,
    to: { owner: 'acme', repo: 'target' },
    dryRun: false,
    log: (line) => lines.push(line),
    warn: (message) => lines.push(`Warning: ${message}`),
    writeGapMs: 0,
  });
  expect(armed).toBe(true);
  expect(waits).toEqual([2000]);
  expect(lines.join('\n')).toContain('secondary rate limit');
  expect(result.created.assets).toBe(2);
  expect(github.requests.count({ listener: 'uploads', status: 403 })).toBe(1);
  const source = github.repo(SOURCE).releases[0]!.assets;
  const target = github.repo('acme/target').releases[0]!.assets;
  expect(target.map((a) => a.bytes.length)).toEqual([200_000, 200_000]);
  expect(target.map((a) => a.bytes.equals(source.find((s) => s.name === a.name)!.bytes))).toEqual([
    true,
    true,
  ]);
});

test('a body longer than GitHub takes is cut, with a note and its marker', () => {
  const origin = { author: 'octocat', created_at: '2025-01-01T00:00:00Z', html_url: null };
  const long = replayedBody('issue', SOURCE, 7, `${SOURCE}#7`, origin, 'x'.repeat(MAX_BODY));
  expect(long.length).toBeLessThanOrEqual(MAX_BODY);
  expect(long).toContain('truncated here: the full text is in `r2-backup restore --metadata`');
  expect(long.endsWith(marker('issue', SOURCE, 7))).toBe(true);
  const short = replayedBody('comment', SOURCE, 9, 'there', origin, 'Short.');
  expect(short).toBe(
    `> Originally written by \`octocat\` on 2025-01-01T00:00:00Z in there\n\nShort.\n\n${marker('comment', SOURCE, 9)}`,
  );
});
