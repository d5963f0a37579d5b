// Runs the action as the GitHub runner does (`node dist/index.js` with INPUT_*, GITHUB_*, an
// event payload, output and summary files) and builds the fixture tree the suites back up.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_S3_CREDENTIALS, ROOT, type LocalStack } from '../../scripts/local-stack.js';
import { aws } from '../worker/helpers.js';

export { aws };

export const COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';
export const SEED_EXCLUDES = ['.git', 'node_modules', '.next', 'dist', 'build', '.cache'];

export interface RunOptions {
  /** Action inputs by their action.yml names (kebab-case). */
  inputs: Record<string, string>;
  event?: 'push' | 'workflow_dispatch' | 'repository_dispatch';
  payload?: Record<string, unknown>;
  /** Extra or overriding environment variables. */
  env?: Record<string, string>;
  repository?: string;
  /** The bundle to run (default dist/index.js; dist/restore/index.js is the restore sub-action). */
  script?: string;
  /** Sends `signal` once `when` resolves (as the runner does when a job is cancelled). */
  cancel?: { when: Promise<unknown>; signal: NodeJS.Signals };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** GITHUB_OUTPUT as written by @actions/core: `name<<DELIMITER\nvalue\nDELIMITER`. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(re)) outputs[match[1]!] = match[3]!;
  return outputs;
}

const defaultPayload = (event: string, repository: string): Record<string, unknown> => {
  const repo = { full_name: repository, name: repository.split('/')[1], default_branch: 'main' };
  if (event === 'push') return { ref: 'refs/heads/main', after: COMMIT, repository: repo };
  if (event === 'workflow_dispatch') return { ref: 'refs/heads/main', inputs: {}, repository: repo };
  return { action: 'backup-request', client_payload: {}, repository: repo };
};

export async function runAction(options: RunOptions): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'r2-backup-run-'));
  const event = options.event ?? 'push';
  const repository = options.repository ?? 'octo-org/autonomous-coding-agent';
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(options.payload ?? defaultPayload(event, repository)));
  const outputPath = join(dir, 'output');
  const summaryPath = join(dir, 'summary.md');
  writeFileSync(outputPath, '');
  writeFileSync(summaryPath, '');

  // The runner's own environment, without anything a surrounding CI run may have set.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_)/.test(name)) env[name] = value;
  }
  Object.assign(env, {
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_REPOSITORY: repository,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_SHA: COMMIT,
    GITHUB_ACTOR: 'octocat',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKSPACE: options.inputs.path ?? ROOT,
    RUNNER_TEMP: dir,
  });
  // The runner names inputs INPUT_ + the name upper-cased, hyphens kept.
  for (const [name, value] of Object.entries(options.inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  Object.assign(env, options.env);

  const child = spawn(process.execPath, [join(ROOT, options.script ?? 'dist/index.js')], { env, cwd: dir });
  let stdout = '';
  let stderr = '';
  const cancel = options.cancel;
  if (cancel) void cancel.when.then(() => child.kill(cancel.signal));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputs(readFileSync(outputPath, 'utf8')),
    summary: readFileSync(summaryPath, 'utf8'),
  };
}

/** S3 inputs for the local stack. */
export const s3Inputs = (stack: LocalStack): Record<string, string> => ({
  'r2-endpoint': stack.s3Endpoint,
  'r2-access-key-id': LOCAL_S3_CREDENTIALS.accessKeyId,
  'r2-secret-access-key': LOCAL_S3_CREDENTIALS.secretAccessKey,
});

const exec = promisify(execFile);

/** Every object under `prefix` (key and size), listed by awscli, sorted by key. */
export async function listObjects(
  stack: LocalStack,
  bucket: string,
  prefix: string,
): Promise<{ Key: string; Size: number }[]> {
  const out = await aws(
    stack,
    's3api',
    'list-objects-v2',
    '--bucket',
    bucket,
    '--prefix',
    prefix,
    '--output',
    'json',
  );
  if (!out.trim()) return [];
  const parsed = JSON.parse(out) as { Contents?: { Key: string; Size: number }[] };
  return (parsed.Contents ?? []).sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
}

/** Every key under `prefix`, listed by awscli. */
export async function listKeys(stack: LocalStack, bucket: string, prefix: string): Promise<string[]> {
  return (await listObjects(stack, bucket, prefix)).map((o) => o.Key);
}

/** Downloads `key` with awscli and extracts it with GNU tar into a fresh directory. */
export async function downloadAndExtract(
  stack: LocalStack,
  bucket: string,
  key: string,
): Promise<{ file: string; dir: string }> {
  const work = mkdtempSync(join(tmpdir(), 'r2-backup-get-'));
  const file = join(work, key.split('/').pop()!);
  await aws(stack, 's3', 'cp', `s3://${bucket}/${key}`, file, '--only-show-errors');
  const dir = join(work, 'tree');
  mkdirSync(dir);
  const flag = key.endsWith('.tar.gz') ? ['-z'] : key.endsWith('.tar.zst') ? ['--zstd'] : [];
  await exec('tar', ['-x', ...flag, '-f', file, '-C', dir]);
  return { file, dir };
}

/** True when a path has a component equal to one of the excludes (GNU tar --exclude by name). */
export const excludedBy =
  (excludes: string[]) =>
  (relative: string): boolean =>
    relative.split('/').some((part) => excludes.includes(part));

/**
 * The fixture: nested and excluded directories at several depths, symlinks (to a file, to a
 * directory, dangling), a hard link, empty files and an empty directory, modes, unicode and
 * spaces in names, and one incompressible file of `bigBytes`.
 */
export function makeFixtureTree(bigBytes: number): string {
  const root = mkdtempSync(join(tmpdir(), 'r2-backup-tree-'));
  const file = (path: string, content: string | Buffer = `content of ${path}\n`, mode?: number): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    if (mode !== undefined) chmodSync(join(root, path), mode);
  };
  file('README.md', '# fixture\n');
  file('src/index.ts', 'export const x = 1;\n');
  file('src/deep/er/still/deeper.txt');
  file('src/bin/run.sh', '#!/bin/sh\necho hi\n', 0o755);
  file('src/read-only.txt', 'ro\n', 0o444);
  file('empty.txt', '');
  file('src/deep/empty-too', '');
  mkdirSync(join(root, 'empty-dir'));
  mkdirSync(join(root, 'src/deep/empty-nested'), { recursive: true });
  file('héllo wörld ✓.txt', 'unicode\n');
  file('日本語/ファイル 名前.md', 'こんにちは\n');
  file('with space/and more spaces.txt');
  file('big/random.bin', randomBytes(bigBytes));
  // Excluded at several depths.
  file('.git/config', '[core]\n');
  file('node_modules/pkg/index.js');
  file('src/node_modules/nested/index.js');
  file('src/deep/.cache/blob');
  file('packages/app/dist/bundle.js');
  file('packages/app/src/app.ts');
  file('build/output.txt');
  file('web/.next/cache.json');
  // Links, stored as links and never followed.
  symlinkSync('src/index.ts', join(root, 'link-to-file'));
  symlinkSync('src', join(root, 'link-to-dir'));
  symlinkSync('does/not/exist', join(root, 'dangling-link'));
  linkSync(join(root, 'src/index.ts'), join(root, 'src/hard-link.ts'));
  return root;
}
