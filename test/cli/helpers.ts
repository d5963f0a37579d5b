// Runs the CLI as a user does: `node dist/cli/index.js ...` with its environment variables.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { LOCAL_S3_CREDENTIALS, ROOT, type LocalStack } from '../../scripts/local-stack.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  // Only what the test gives: nothing of a surrounding shell's R2_* settings.
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('R2_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist/cli/index.js'), ...args],
      { env: { ...base, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
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
