// Restore drills through the CLI, after a real backup by dist/index.js of a git repository with
// its history: the drill restores into a temporary directory (removed after), checks the hash,
// the file count and the bundle, and records a `drill` notification, which the tenant summary
// shows as its last drill (never as a run's status). A corrupted archive fails the drill.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { aws, runAction, s3Inputs } from '../action/helpers.js';
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
