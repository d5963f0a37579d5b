// Shared by the Worker suites: a token, the seed's example bodies, a fetch wrapper and the
// independent clients (awscli, @aws-sdk/client-s3) pointed at the local S3 endpoint.
import { S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { LOCAL_S3_CREDENTIALS, type LocalStack } from '../../scripts/local-stack.js';

export const newToken = (): string => randomBytes(24).toString('hex');

export const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** The seed's example metadata body, with a real commit id. */
export const seedBackup = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  tenant: 'my-repo',
  bucket: 'my-bucket',
  repo: 'owner/repo',
  branch: 'main',
  commit: COMMIT,
  backup_file: 'my-repo-20250101-120000.tar.gz',
  action: 'upload',
  ...overrides,
});

/** The seed's example notification body. */
export const seedNotification = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  tenant: 'my-repo',
  bucket: 'my-bucket',
  repo: 'owner/repo',
  branch: 'main',
  commit: COMMIT,
  status: 'success',
  ...overrides,
});

export interface Api {
  (path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  post(path: string, json: unknown): Promise<Response>;
}

/** fetch against the stack with the token, JSON bodies made easy. */
export function apiClient(stack: LocalStack, token: string | null): Api {
  const call = (path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (token !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return fetch(`${stack.url}${path}`, { ...init, headers, body });
  };
  return Object.assign(call, {
    post: (path: string, json: unknown) => call(path, { method: 'POST', json }),
  });
}

/** An S3 client with the two settings the local endpoint needs (local-r2-stack.md). */
export function s3Client(stack: LocalStack): S3Client {
  return new S3Client({
    endpoint: stack.s3Endpoint,
    forcePathStyle: true,
    region: 'auto',
    credentials: LOCAL_S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    expectContinueHeader: false,
  });
}

const run = promisify(execFile);

/** awscli against the local endpoint: an S3 client that is not ours. */
export async function aws(stack: LocalStack, ...args: string[]): Promise<string> {
  const { stdout } = await run('aws', ['--endpoint-url', stack.s3Endpoint, ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: 'auto',
    },
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'buffer',
  });
  return stdout.toString('utf8');
}

/** A response's JSON, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const readJson = async (response: Response): Promise<any> => response.json();
