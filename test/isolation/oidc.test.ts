// GitHub OIDC in workerd against a local issuer: the JWKS is fetched once and cached, and every
// kind of bad ID token is refused with 401 before any route runs.
import { SignJWT, generateKeyPair } from 'jose';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { apiClient, newToken, readJson } from '../worker/helpers.js';
import { AUDIENCE, startIssuer, type LocalIssuer } from './issuer.js';

let stack: LocalStack;
let issuer: LocalIssuer;

const A_LIST = '/api/github/backup/list?tenant=tenant-a&bucket=tenant-a-github-backup';
const B_LIST = '/api/github/backup/list?tenant=tenant-b&bucket=tenant-b-github-backup';

beforeAll(async () => {
  issuer = await startIssuer();
  stack = await startLocalStack({
    env: 'test',
    vars: {
      CLOUDCONNECT: newToken(),
      OIDC_ISSUER: issuer.issuer,
      OIDC_JWKS_URL: issuer.jwksUrl,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_POLICY: JSON.stringify({
        owners: ['Acme'],
        repositories: { 'ops/backup-admin': { tenants: ['tenant-a', 'tenant-b'] } },
      }),
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await issuer?.close();
});

const status = async (token: string, path = A_LIST): Promise<number> =>
  (await apiClient(stack, token)(path)).status;

// First, while nothing else has fetched the keys: several requests, one JWKS fetch.
test('the JWKS is fetched once and cached across requests and repositories', async () => {
  expect(issuer.fetches()).toBe(0);
  const tokens = await Promise.all([
    issuer.sign('acme/tenant-a'),
    issuer.sign('acme/tenant-b'),
    issuer.sign('acme/tenant-a'),
  ]);
  expect(await status(tokens[0]!)).toBe(200);
  expect(await Promise.all([status(tokens[1]!, B_LIST), status(tokens[2]!), status(tokens[0]!)])).toEqual([
    200, 200, 200,
  ]);
  for (let i = 0; i < 4; i++) expect(await status(await issuer.sign('acme/tenant-b'), B_LIST)).toBe(200);
  expect(issuer.fetches()).toBe(1);
});

test('owner names match case-insensitively; an explicit repository grant adds tenants', async () => {
  expect(await status(await issuer.sign('ACME/tenant-a'))).toBe(200);
  const ops = await issuer.sign('ops/backup-admin');
  expect([await status(ops), await status(ops, B_LIST)]).toEqual([200, 200]);
  // ...but not the tenant named like the repository, nor every tenant.
  expect(
    await status(ops, '/api/github/backup/list?tenant=backup-admin&bucket=backup-admin-github-backup'),
  ).toBe(403);
  expect(await status(ops, '/api/github/backup/list?bucket=tenant-a-github-backup')).toBe(403);
});

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

const badTokens: [string, RegExp, () => Promise<string>][] = [
  [
    'expired',
    /"exp"/,
    () => issuer.sign('acme/tenant-a', { iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 }),
  ],
  ['not yet valid', /"nbf"/, () => issuer.sign('acme/tenant-a', { nbf: now() + 3600, exp: now() + 7200 })],
  ['for another audience', /"aud"/, () => issuer.sign('acme/tenant-a', { aud: 'someone-else' })],
  [
    'from another issuer',
    /"iss"/,
    () => issuer.sign('acme/tenant-a', { iss: 'https://token.actions.githubusercontent.com' }),
  ],
  [
    'signed by another key under the known key id',
    /signature/,
    async () => issuer.sign('acme/tenant-a', {}, { key: (await generateKeyPair('RS256')).privateKey }),
  ],
  [
    'signed by another key under an unknown key id',
    /key/i,
    async () =>
      issuer.sign('acme/tenant-a', {}, { key: (await generateKeyPair('RS256')).privateKey, kid: 'attacker' }),
  ],
  [
    'with alg none and a dummy signature',
    /alg/,
    async () => {
      const claims = JSON.parse(
        Buffer.from((await issuer.sign('acme/tenant-a')).split('.')[1]!, 'base64url').toString(),
      );
      return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.AAAA`;
    },
  ],
  [
    'HS256-signed with the public key as the secret',
    /alg/,
    async () => {
      const claims = JSON.parse(
        Buffer.from((await issuer.sign('acme/tenant-a')).split('.')[1]!, 'base64url').toString(),
      );
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: issuer.kid })
        .sign(new TextEncoder().encode(issuer.publicPem));
    },
  ],
  [
    'without a repository claim',
    /"repository"/,
    () => issuer.sign('acme/tenant-a', { repository: undefined }),
  ],
  ['for a repository outside the policy', /not allowed by OIDC_POLICY/, () => issuer.sign('evil/tenant-a')],
  [
    'whose repository and owner claims disagree',
    /disagree/,
    () => issuer.sign('acme/tenant-a', { repository_owner: 'evil' }),
  ],
];

test.each(badTokens)('an ID token %s is 401 with the reason', async (_, reason, make) => {
  const response = await apiClient(stack, await make())(A_LIST);
  const body = await readJson(response);
  expect({ status: response.status, body }).toEqual({
    status: 401,
    body: { success: false, error: 'Unauthorized', reason: expect.stringMatching(reason) },
  });
  expect(response.headers.get('www-authenticate')).toContain('invalid_token');
});

test('alg none without a signature, and garbage, are 401 too', async () => {
  const unsigned = `${b64url({ alg: 'none' })}.${b64url({ repository: 'acme/tenant-a', aud: AUDIENCE })}.`;
  for (const token of [unsigned, 'a.b.c', 'not-a-jwt']) expect(await status(token)).toBe(401);
});
