// Credentials inside a URL setting (`https://user:pass@host` in `r2-endpoint` or `api-url`, or
// in the CLI's R2_ENDPOINT / R2_BACKUP_API_URL and their flags) would be printed wherever the
// URL is. The backup action, the restore sub-action and the CLI refuse such a URL with one
// shared check (common/validate.ts checkHttpUrl), before anything is logged: the error names
// the setting, the exit is non-zero, nothing is uploaded or restored, and the password appears
// in no stdout, stderr, step summary or output. The URLs point at the live local stack, so a
// URL that got through would really upload.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_S3_CREDENTIALS, type LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { runCli } from '../cli/helpers.js';
import { newToken } from '../worker/helpers.js';
import { aws, makeFixtureTree, runAction, s3Inputs, type RunResult } from './helpers.js';

const ADMIN = sharedStackToken();
// Distinct from every input the action masks itself (its ::add-mask:: lines name those).
const SECRET = `url-secret-${newToken()}`;
const BUCKET = 'tenant-a-github-backup';
let stack: LocalStack;
let tree: string;
let work: string;

/** `http://user:SECRET@127.0.0.1:PORT/path`: the stack's own address, with credentials. */
const withCredentials = (url: string, user = 'user'): string => url.replace('://', `://${user}:${SECRET}@`);

/** Everything a run leaves for a reader of the log or of later steps. */
const everything = (run: RunResult): string =>
  [run.stdout, run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n');

const bucketListing = async (): Promise<string> => aws(stack, 's3', 'ls', '--recursive', `s3://${BUCKET}/`);

beforeAll(async () => {
  stack = await sharedStack();
  tree = makeFixtureTree(1024);
  work = mkdtempSync(join(tmpdir(), 'r2-backup-url-credentials-'));
}, 120_000);
afterAll(async () => {
  for (const dir of [tree, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the backup action', () => {
  const cases: [string, string, () => Record<string, string>][] = [
    [
      'r2-endpoint with user:password',
      'r2-endpoint',
      () => ({ ...s3Inputs(stack), 'r2-endpoint': withCredentials(stack.s3Endpoint) }),
    ],
    [
      'r2-endpoint with the S3 keys in it',
      'r2-endpoint',
      () => ({
        ...s3Inputs(stack),
        'r2-endpoint': withCredentials(stack.s3Endpoint, LOCAL_S3_CREDENTIALS.accessKeyId),
      }),
    ],
    [
      'api-url with user:password and a token',
      'api-url',
      () => ({ ...s3Inputs(stack), 'api-url': withCredentials(stack.url), 'api-token': ADMIN }),
    ],
    [
      // The likely mistake: the URL meant to carry the credentials, so no api-token. The error
      // is about the URL, not the missing token.
      'api-url with user:password and no token',
      'api-url',
      () => ({ ...s3Inputs(stack), 'api-url': withCredentials(stack.url) }),
    ],
    [
      'api-url with credentials, upload through the Worker',
      'api-url',
      () => ({ 'api-url': withCredentials(stack.url), 'api-token': ADMIN }),
    ],
    [
      'api-url with credentials and auth: oidc',
      'api-url',
      () => ({ 'api-url': withCredentials(stack.url), auth: 'oidc' }),
    ],
  ];

  test.each(cases)('%s is refused before anything is logged or uploaded', async (_name, input, inputs) => {
    const before = await bucketListing();
    const run = await runAction({ inputs: { ...inputs(), tenant: 'tenant-a', path: tree } });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain(`::error::Invalid ${input}: must not contain credentials`);
    expect(everything(run)).not.toContain(SECRET);
    // Nothing was logged before the refusal (the ::add-mask:: lines are the runner's protocol).
    expect(run.stdout.split('\n').filter((line) => line && !line.startsWith('::add-mask::'))).toEqual([
      expect.stringMatching(/^::error::Invalid /),
    ]);
    expect(run.summary).toBe('');
    expect(run.outputs).toEqual({});
    expect(await bucketListing()).toBe(before);
  });

  test('the same inputs without credentials in the URLs back up (the refusal is the URL alone)', async () => {
    const run = await runAction({
      inputs: {
        ...s3Inputs(stack),
        'api-url': stack.url,
        'api-token': ADMIN,
        tenant: 'tenant-a',
        path: tree,
      },
    });
    expect(run.code).toBe(0);
    expect(run.outputs['backup-key']).toMatch(/^backups\/tenant-a\//);
  });
});

describe('the restore sub-action', () => {
  test.each([
    ['api-url', () => ({ 'api-url': withCredentials(stack.url), 'api-token': ADMIN })],
    ['r2-endpoint', () => ({ ...s3Inputs(stack), 'r2-endpoint': withCredentials(stack.s3Endpoint) })],
  ] as [string, () => Record<string, string>][])('%s with credentials is refused', async (input, inputs) => {
    const target = join(work, `restore-${input}`);
    const run = await runAction({
      script: 'dist/restore/index.js',
      inputs: { ...inputs(), tenant: 'tenant-a', target },
    });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain(
      `::error::Invalid ${input}: must not contain credentials ("user:password@"): give the token or keys as their own secret settings. Nothing was restored.`,
    );
    expect(everything(run)).not.toContain(SECRET);
    expect(run.outputs).toEqual({});
    expect(existsSync(target)).toBe(false);
  });
});

describe('the CLI', () => {
  const s3Env = () => ({
    R2_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    R2_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  });
  const cases: [string, RegExp, () => { args: string[]; env: Record<string, string> }][] = [
    [
      'R2_BACKUP_API_URL',
      /--api-url \/ R2_BACKUP_API_URL/,
      () => ({
        args: [],
        env: { R2_BACKUP_API_URL: withCredentials(stack.url), R2_BACKUP_API_TOKEN: ADMIN },
      }),
    ],
    [
      'R2_BACKUP_API_URL (no token)',
      /--api-url \/ R2_BACKUP_API_URL/,
      () => ({ args: [], env: { R2_BACKUP_API_URL: withCredentials(stack.url) } }),
    ],
    [
      '--api-url',
      /--api-url \/ R2_BACKUP_API_URL/,
      () => ({ args: ['--api-url', withCredentials(stack.url)], env: { R2_BACKUP_API_TOKEN: ADMIN } }),
    ],
    [
      'R2_ENDPOINT',
      /--endpoint \/ R2_ENDPOINT/,
      () => ({ args: [], env: { ...s3Env(), R2_ENDPOINT: withCredentials(stack.s3Endpoint) } }),
    ],
    [
      '--endpoint',
      /--endpoint \/ R2_ENDPOINT/,
      () => ({ args: ['--endpoint', withCredentials(stack.s3Endpoint)], env: s3Env() }),
    ],
  ];

  test.each(cases)(
    '%s with credentials is refused by list, restore and verify',
    async (_name, names, make) => {
      const { args, env } = make();
      for (const command of [
        ['list'],
        ['restore', '--latest', '--target', join(work, 'cli-target')],
        ['verify'],
      ]) {
        const run = await runCli([...command, '--tenant', 'tenant-a', ...args], env);
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/must not contain credentials/);
        expect(run.stderr).toMatch(names);
        expect(run.stdout + run.stderr).not.toContain(SECRET);
        expect(run.stdout).toBe('');
      }
      expect(existsSync(join(work, 'cli-target'))).toBe(false);
    },
  );
});
