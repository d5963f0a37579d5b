// Restore drills through the CLI, after a real backup by dist/index.js of a git repository with
// its history: the drill restores into a temporary directory (removed after), checks the hash,
// the file count and the bundle, and records a `drill` notification, which the tenant summary
// shows as its last drill (never as a run's status). A corrupted archive fails the drill. A
// backup with a metadata export (include-metadata against the fake GitHub API) has it restored
// and its counts named; a replaced export object fails the drill.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { aws, runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';
import { fullEnv, runCli } from '../cli/helpers.js';
import { apiClient, readJson } from '../worker/helpers.js';

const TENANT = 'drilled';
const BUCKET = 'my-bucket';
const TOKEN = sharedStackToken();
let stack: LocalStack;
let work: string;
let scratch: string;
let backupFile: string;

const git = async (dir: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', ['-C', dir, ...args])).stdout.trim();

const drill = () =>
  runCli(['drill', '--tenant', TENANT, '--bucket', BUCKET], { ...fullEnv(stack, TOKEN), TMPDIR: scratch });
const summary = async () =>
  readJson(await apiClient(stack, TOKEN)(`/api/github/backup/tenants/${TENANT}/summary?bucket=${BUCKET}`));

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-drill-test-'));
  scratch = join(work, 'tmp');
  mkdirSync(scratch);
  const repo = join(work, 'repo');
  mkdirSync(join(repo, 'src'), { recursive: true });
  await git(repo, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(repo, 'README.md'), '# drilled\n');
  writeFileSync(join(repo, 'src', 'index.ts'), 'export const x = 1;\n');
  await git(repo, 'add', '.');
  await git(repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'one');
  const run = await runAction({
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: TENANT,
      bucket: BUCKET,
      path: repo,
      'include-git-history': 'true',
    },
    env: { GITHUB_SHA: await git(repo, 'rev-parse', 'HEAD') },
  });
  expect(run.code).toBe(0);
  backupFile = run.outputs['backup-file']!;
}, 180_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a drill of a good backup passes, leaves nothing behind, and is the tenant’s last drill', async () => {
  const result = await drill();
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`archive ${backupFile}:`);
  expect(result.stdout).toContain('sha256 matches the record');
  expect(result.stdout).toMatch(/\d+ files, as recorded/);
  expect(result.stdout).toContain('git history: bundle verified');
  expect(result.stdout).toContain(
    `Restore drill of ${backupFile} (tenant ${TENANT}, bucket ${BUCKET}): passed, recorded`,
  );
  expect(readdirSync(scratch)).toEqual([]);

  const body = await summary();
  expect(body.last_drill).toMatchObject({ status: 'success', backup_file: backupFile });
  expect(body.last_drill.message).toMatch(/^Restore drill passed: /);
  // The run's own notification stays the tenant's last status.
  expect(body.last_status).toMatchObject({ status: 'success' });
  // A kind the Worker does not know is refused, naming the field.
  const bogus = await apiClient(stack, TOKEN).post('/api/github/backup/notify', {
    tenant: TENANT,
    bucket: BUCKET,
    repo: 'acme/drilled',
    branch: 'main',
    commit: 'a'.repeat(40),
    status: 'success',
    kind: 'rehearsal',
  });
  expect(bogus.status).toBe(400);
  expect(await readJson(bogus)).toMatchObject({ field: 'kind' });
});

test('a drill of a corrupted archive fails and is recorded as a failed drill, not a failed run', async () => {
  const key = `backups/${TENANT}/${backupFile}`;
  const corrupt = join(work, 'corrupt');
  writeFileSync(corrupt, 'not the archive that was recorded');
  await aws(stack, 's3', 'cp', corrupt, `s3://${BUCKET}/${key}`);

  const result = await drill();
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/failed: .*/);
  expect(result.stdout).toContain('FAILED, recorded');
  expect(readdirSync(scratch)).toEqual([]);

  const body = await summary();
  expect(body.last_drill).toMatchObject({ status: 'failure', backup_file: backupFile });
  expect(body.last_drill.message).toMatch(/^Restore drill FAILED: /);
  expect(body.recent_failures).toBe(0);
  expect(body.last_status).toMatchObject({ status: 'success' });
});

describe('a backup with a metadata export', () => {
  const REPOSITORY = 'octo-org/autonomous-coding-agent';
  let github: FakeGitHub;
  let withExport: RunResult;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.seed(REPOSITORY, {
      issues: 5,
      pulls: 2,
      commentsPerIssue: 1,
      reviewsPerPull: 1,
      reviewCommentsPerPull: 1,
      labels: 2,
      milestones: 1,
      releases: 1,
      assetsPerRelease: 2,
      assetBytes: 700,
    });
    const repo = join(work, 'repo');
    withExport = await runAction({
      repository: REPOSITORY,
      inputs: {
        ...s3Inputs(stack),
        'api-url': stack.url,
        'api-token': TOKEN,
        tenant: TENANT,
        bucket: BUCKET,
        path: repo,
        'include-git-history': 'true',
        'include-metadata': 'true',
        'github-token': github.token,
      },
      env: { GITHUB_API_URL: github.apiUrl, GITHUB_SHA: await git(repo, 'rev-parse', 'HEAD') },
    });
    expect(withExport.code).toBe(0);
    expect(withExport.outputs['metadata-key']).toBeDefined();
  }, 180_000);
  afterAll(async () => {
    await github?.stop();
  });

  test('the drill restores the export and names it with its counts, as recorded', async () => {
    const record = JSON.parse(
      await aws(
        stack,
        's3',
        'cp',
        `s3://${BUCKET}/backups/${TENANT}/metadata/${withExport.outputs['backup-file']!}.json`,
        '-',
      ),
    ) as { meta_counts: Record<string, number> };
    expect(record.meta_counts.issues).toBeGreaterThan(0);
    expect(record.meta_counts.assets).toBe(2);
    const result = await drill();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`archive ${withExport.outputs['backup-file']!}:`);
    expect(result.stdout).toContain('git history: bundle verified');
    const counts = Object.entries(record.meta_counts)
      .map(([kind, count]) => `${count} ${kind.replace('_', ' ')}`)
      .join(', ');
    expect(result.stdout).toContain(
      `metadata export ${withExport.outputs['metadata-key']!}: ${withExport.outputs['metadata-size']!} bytes, ` +
        `sha256 matches the record, complete: `,
    );
    for (const part of counts.split(', ')) expect(result.stdout).toContain(part);
    expect(result.stdout).toContain('passed, recorded');
    expect(readdirSync(scratch)).toEqual([]);
    const body = await summary();
    expect(body.last_drill).toMatchObject({
      status: 'success',
      backup_file: withExport.outputs['backup-file'],
    });
    expect(body.last_drill.message).toContain(`metadata export ${withExport.outputs['metadata-key']!}`);
  });

  test('a replaced export object fails the drill', async () => {
    const replaced = join(work, 'replaced-export');
    writeFileSync(replaced, 'not the export that was recorded');
    await aws(stack, 's3', 'cp', replaced, `s3://${BUCKET}/${withExport.outputs['metadata-key']!}`);

    const result = await drill();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed: .*does not match its metadata/);
    expect(result.stdout).not.toContain('sha256 matches the record, complete');
    expect(result.stdout).toContain('FAILED, recorded');
    expect(readdirSync(scratch)).toEqual([]);
    const body = await summary();
    expect(body.last_drill).toMatchObject({
      status: 'failure',
      backup_file: withExport.outputs['backup-file'],
    });
  });
});
