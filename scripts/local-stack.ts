// Starts the Worker as it runs in production, in workerd through `wrangler dev`, with local R2
// buckets and their S3 endpoint on the same port. Used by the tests, the demo and the
// benchmarks. Imports only Node built-ins, so Node runs it directly as well as through jest.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The keys of `local_dev.experimental_s3_credentials` in worker/wrangler.toml (local only). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'local-dev-key', secretAccessKey: 'local-dev-secret' };

/** The record signing key of the local stack unless a test gives its own (local only, like the
 *  S3 keys above: a deployed Worker gets its own with `wrangler secret put RECORD_SIGNING_KEY`). */
export const LOCAL_RECORD_SIGNING_KEY = 'local-dev-record-signing-key';

export interface LocalStackOptions {
  /** Worker variables and secrets, passed as `--var NAME:VALUE`. */
  vars?: Record<string, string>;
  /** wrangler environment; the tests use `test`, which binds extra buckets. */
  env?: string;
  /** Port to listen on; a free one when omitted. */
  port?: number;
  /** Where the local R2 data lives; a fresh temporary directory when omitted. */
  persistTo?: string;
  /** Serve `/__scheduled?cron=...`, which runs the Worker's cron handler (`--test-scheduled`). */
  testScheduled?: boolean;
  /** Also append wrangler's output to this file, for processes other than the one that started
   *  the stack (the test suite's shared stacks are started by jest's global setup). */
  logFile?: string;
}

export interface LocalStack {
  url: string;
  /** The S3 endpoint for @aws-sdk/client-s3 or awscli (path style, region "auto"). */
  s3Endpoint: string;
  persistTo: string;
  /** wrangler's process; workerd runs under it (the benchmark counts their CPU time). */
  pid: number;
  /** Everything wrangler printed so far, for diagnosing a failing test. */
  output: () => string;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options, options.port ?? (await freePort()));
    } catch (error) {
      // freePort() finds a port that was free a moment ago; another process may bind it first.
      const taken = /Address already in use/.test((error as Error).message);
      if (!taken || options.port !== undefined || attempt === 3) throw error;
    }
  }
}

async function launch(options: LocalStackOptions, port: number): Promise<LocalStack> {
  const inspectorPort = await freePort();
  const ownPersist = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), 'r2-backup-stack-'));
  const args = [
    join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
    'dev',
    '--config',
    join(ROOT, 'worker/wrangler.toml'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    persistTo,
    '--show-interactive-dev-session=false',
  ];
  if (options.env) args.push('--env', options.env);
  if (options.testScheduled) args.push('--test-scheduled');
  const vars = { RECORD_SIGNING_KEY: LOCAL_RECORD_SIGNING_KEY, ...options.vars };
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);

  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
  });
  let output = '';
  const record = (chunk: Buffer): void => {
    output += chunk.toString();
    if (options.logFile) appendFileSync(options.logFile, chunk);
  };
  child.stdout!.on('data', record);
  child.stderr!.on('data', record);

  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    // wrangler's pipes can still deliver output after it exits (workerd shares them); once
    // stopped, nothing more is recorded, so the caller may delete the log file.
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.off('data', record);
      stream.destroy();
    }
    if (ownPersist) rmSync(persistTo, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited early:\n${output}`);
    }
    try {
      // A probe that hangs (workerd can take a connection before it answers) must not outlast
      // the deadline.
      const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5000) });
      if (response.ok) {
        return {
          url,
          s3Endpoint: `${url}/cdn-cgi/local/r2/s3`,
          persistTo,
          pid: child.pid!,
          output: () => output,
          stop,
        };
      }
    } catch {
      // not listening or not answering yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer /api/health within 60 s:\n${output}`);
}
