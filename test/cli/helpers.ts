// Runs the CLI as a user does: `node dist/cli/index.js ...` with its environment variables.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { LOCAL_S3_CREDENTIALS, ROOT, type LocalStack } from '../../scripts/local-stack.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI's environment: only what the test gives, nothing of a surrounding shell's R2_* settings. */
const cliEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('R2_'))),
  ...env,
});

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist/cli/index.js'), ...args],
      { env: cliEnv(env), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

export interface RunningCli {
  child: ChildProcess;
  pid: number;
  /** Settles when it exits; a process ended by a signal it did not handle has code 128 + its number. */
  done: Promise<CliResult>;
}

/** Starts the CLI in the background, for a test that acts while it runs (a second run, a signal). */
export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/index.js'), ...args], { env: cliEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.once('close', (code, signal) =>
      resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout, stderr }),
    ),
  );
  return { child, pid: child.pid!, done };
}

/** The Worker only: archives come through its download route. */
export const workerEnv = (stack: LocalStack, token: string): Record<string, string> => ({
  R2_BACKUP_API_URL: stack.url,
  R2_BACKUP_API_TOKEN: token,
});

/** The Worker for the catalogue and R2's S3 endpoint for the bytes. */
export const fullEnv = (stack: LocalStack, token: string): Record<string, string> => ({
  ...workerEnv(stack, token),
  R2_ENDPOINT: stack.s3Endpoint,
  R2_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
  R2_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
});
