// `auth: oidc` as the runner runs it: the runner's ID-token endpoint is simulated as GitHub
// provides it (ACTIONS_ID_TOKEN_REQUEST_URL + _TOKEN, `&audience=`), backed by a local issuer
// that the Worker trusts; no Worker secret reaches the action.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { freePort, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { startIssuer, type LocalIssuer } from '../isolation/issuer.js';
import { newToken } from '../worker/helpers.js';
import { aws, listKeys, makeFixtureTree, runAction, s3Inputs } from './helpers.js';

// What the runner's token service knows: which repository each job's request token belongs to.
const JOBS: Record<string, string> = { 'job-token-a': 'acme/tenant-a', 'job-token-b': 'acme/tenant-b' };
let stack: LocalStack;
let issuer: LocalIssuer;
let tokenService: Server;
let tokenServiceUrl: string;
let tree: string;
const issued: string[] = [];
const audiences: string[] = [];

beforeAll(async () => {
  issuer = await startIssuer();
  tokenService = createServer((request, response) => {
    const url = new URL(request.url!, 'http://localhost');
    const repository = JOBS[(request.headers.authorization ?? '').replace(/^Bearer /, '')];
    const audience = url.searchParams.get('audience');
    if (!repository || !audience) return void response.writeHead(401).end();
    audiences.push(audience);
    void issuer.sign(repository, { aud: audience }).then((token) => {
      issued.push(token);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: token }));
    });
  });
  await new Promise<void>((resolve) => tokenService.listen(0, '127.0.0.1', resolve));
  tokenServiceUrl = `http://127.0.0.1:${(tokenService.address() as AddressInfo).port}/idtoken?api-version=2.0`;
  // The action's default audience is api-url: the Worker's OIDC_AUDIENCE is its own URL.
  const port = await freePort();
  stack = await startLocalStack({
    env: 'test',
    port,
    vars: {
      CLOUDCONNECT: newToken(),
      OIDC_ISSUER: issuer.issuer,
      OIDC_JWKS_URL: issuer.jwksUrl,
      OIDC_AUDIENCE: `http://127.0.0.1:${port}`,
      OIDC_POLICY: JSON.stringify({ owners: ['acme'] }),
    },
  });
  tree = makeFixtureTree(64 * 1024);
});
afterAll(async () => {
  await stack?.stop();
  await issuer?.close();
  await new Promise((resolve) => tokenService?.close(resolve));
  if (tree) rmSync(tree, { recursive: true, force: true });
});

const runnerEnv = (jobToken: string): Record<string, string> => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: tokenServiceUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: jobToken,
});
const oidcInputs = (extra: Record<string, string> = {}): Record<string, string> => ({
  path: tree,
  'api-url': stack.url,
  auth: 'oidc',
  ...extra,
});
const errorLine = (stdout: string): string => stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
const unmasked = (text: string): string => text.replace(/^::add-mask::.*$/gm, '');

async function record(bucket: string, tenant: string, backupFile: string): Promise<Record<string, unknown>> {
  const key = `s3://${bucket}/backups/${tenant}/metadata/${backupFile}.json`;
  return JSON.parse(await aws(stack, 's3', 'cp', key, '-')) as Record<string, unknown>;
}

test('with S3 keys: the archive goes to R2, the record is written with the ID token of the repository', async () => {
  const before = issued.length;
  const run = await runAction({
    repository: 'acme/tenant-a',
    inputs: oidcInputs(s3Inputs(stack)),
    env: runnerEnv('job-token-a'),
  });
  expect(run.code).toBe(0);
  expect(run.outputs.tenant).toBe('tenant-a');
  expect(audiences.at(-1)).toBe(stack.url);
  const metadata = await record('tenant-a-github-backup', 'tenant-a', run.outputs['backup-file']!);
  expect(metadata).toMatchObject({ principal: 'oidc:acme/tenant-a', sha256: run.outputs.sha256 });
  // The ID tokens are masked and never printed.
  expect(issued.length).toBeGreaterThan(before);
  for (const token of issued.slice(before)) {
    expect(run.stdout).toContain(`::add-mask::${token}`);
    expect(unmasked(run.stdout + run.stderr)).not.toContain(token);
  }
});

test('without S3 keys: the upload goes through the Worker with the ID token alone', async () => {
  const run = await runAction({
    repository: 'acme/tenant-a',
    inputs: oidcInputs(),
    env: runnerEnv('job-token-a'),
  });
  expect(run.code).toBe(0);
  expect(await listKeys(stack, 'tenant-a-github-backup', 'backups/tenant-a/')).toContain(
    run.outputs['backup-key'],
  );
  const metadata = await record('tenant-a-github-backup', 'tenant-a', run.outputs['backup-file']!);
  expect(metadata.principal).toBe('oidc:acme/tenant-a');
});

test("repository A's identity aiming at tenant B is refused, and nothing of B is written", async () => {
  const run = await runAction({
    repository: 'acme/tenant-a',
    inputs: oidcInputs({ tenant: 'tenant-b' }),
    env: runnerEnv('job-token-a'),
  });
  expect(run.code).toBe(1);
  expect(errorLine(run.stdout)).toMatch(/403/);
  expect(await listKeys(stack, 'tenant-b-github-backup', 'backups/')).toEqual([]);
  // Repository B itself may.
  const own = await runAction({
    repository: 'acme/tenant-b',
    inputs: oidcInputs(),
    env: runnerEnv('job-token-b'),
  });
  expect(own.code).toBe(0);
  expect(own.outputs.tenant).toBe('tenant-b');
});

test('a token for another audience is refused by the Worker', async () => {
  const run = await runAction({
    repository: 'acme/tenant-a',
    inputs: oidcInputs({ 'oidc-audience': 'https://some-other-service.example' }),
    env: runnerEnv('job-token-a'),
  });
  expect(run.code).toBe(1);
  expect(audiences.at(-1)).toBe('https://some-other-service.example');
  expect(errorLine(run.stdout)).toMatch(/401.*refused the ID token/);
});

test('without id-token permission the step stops before any upload and says what to add', async () => {
  const before = await listKeys(stack, 'tenant-a-github-backup', 'backups/tenant-a/');
  const run = await runAction({ repository: 'acme/tenant-a', inputs: oidcInputs(s3Inputs(stack)) });
  expect(run.code).toBe(1);
  expect(errorLine(run.stdout)).toMatch(/Invalid auth: .*permissions: id-token: write/);
  expect(await listKeys(stack, 'tenant-a-github-backup', 'backups/tenant-a/')).toEqual(before);
});

test('auth: oidc together with api-token is refused, naming the input', async () => {
  const run = await runAction({
    repository: 'acme/tenant-a',
    inputs: oidcInputs({ 'api-token': 'a-static-token' }),
    env: runnerEnv('job-token-a'),
  });
  expect(run.code).toBe(1);
  expect(errorLine(run.stdout)).toMatch(/Invalid api-token: must be empty with auth: oidc/);
});
