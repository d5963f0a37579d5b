// The whole way back: `node dist/index.js` with include-metadata exports a repository of the fake
// GitHub into R2 beside its archive; `r2-backup replay --tenant T` (the latest backup) downloads
// that export, verifies it against its record, and recreates the repository's issues, comments,
// labels, milestones and releases with assets in an empty repository.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '../../scripts/local-stack.js';
import { runAction, s3Inputs } from '../action/helpers.js';
import { fullEnv, runCli } from '../cli/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { contentOf } from './helpers.js';

const TOKEN = sharedStackToken();
const SOURCE = 'octo-org/autonomous-coding-agent';
const TARGET = 'octo-org/restored';
let stack: LocalStack;
let github: FakeGitHub;
let work: string;

beforeAll(async () => {
  stack = await sharedStack();
  github = await startFakeGitHub();
  github.seed(SOURCE, {
    issues: 5,
    pulls: 2,
    commentsPerIssue: 2,
    labels: 2,
    milestones: 2,
    releases: 2,
    assetsPerRelease: 2,
    assetBytes: 5000,
  });
  github.addRepository(TARGET);
  work = mkdtempSync(join(tmpdir(), 'replay-backup-'));
  mkdirSync(join(work, 'tree'));
  writeFileSync(join(work, 'tree', 'README.md'), 'files\n');
  mkdirSync(join(work, 'tmp'));
}, 60_000);

afterAll(async () => {
  await github?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a backup with include-metadata replays into an empty repository equal to the source', async () => {
  const backup = await runAction({
    repository: SOURCE,
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: 'tenant-a',
      path: join(work, 'tree'),
      'include-metadata': 'true',
      'github-token': github.token,
    },
    env: { GITHUB_API_URL: github.apiUrl },
  });
  expect(backup.code).toBe(0);
  expect(backup.outputs['metadata-key']).toMatch(/\.meta\.tar\.zst$/);

  const env = {
    ...fullEnv(stack, TOKEN),
    GITHUB_API_URL: github.apiUrl,
    GITHUB_TOKEN: github.token,
    R2_BACKUP_GITHUB_WRITE_GAP_MS: '0',
    TMPDIR: join(work, 'tmp'),
  };
  const dry = await runCli(['replay', '--tenant', 'tenant-a', '--to', TARGET, '--dry-run'], env);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toMatch(/issues\s+5 to create, 0 already there/);
  expect(github.repo(TARGET).items.size).toBe(0);

  const replayed = await runCli(['replay', '--tenant', 'tenant-a', '--to', TARGET, '--json'], env);
  expect(replayed.code).toBe(0);
  const result = JSON.parse(replayed.stdout) as { created: Record<string, number>; source: string };
  expect(result.source).toBe(SOURCE);
  expect(result.created).toEqual({
    labels: 2,
    milestones: 2,
    issues: 5,
    comments: 10,
    releases: 2,
    assets: 4,
  });
  expect(contentOf(github, TARGET)).toEqual(contentOf(github, SOURCE));
  expect(replayed.stderr + replayed.stdout).not.toContain(github.token);
  // The export was restored into a temporary directory, removed afterwards.
  expect(readdirSync(join(work, 'tmp'))).toEqual([]);
}, 120_000);
