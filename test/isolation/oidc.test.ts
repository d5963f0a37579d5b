// GitHub OIDC in workerd against a local issuer: the JWKS is fetched once and cached, every
// kind of bad ID token is refused with 401 before any route runs, and OIDC_POLICY's grants
// cannot collide (explicit beats implicit, owner-qualified names, immutable id binding).
import { SignJWT, generateKeyPair } from 'jose';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { parseOidcPolicy } from '../../worker/src/oidc.js';
import { HttpError } from '../../worker/src/http.js';
import { apiClient, newToken, readJson } from '../worker/helpers.js';
import { AUDIENCE, ownerId, repositoryId, startIssuer, type LocalIssuer } from './issuer.js';

let stack: LocalStack;
let issuer: LocalIssuer;

const list = (tenant: string, bucket = `${tenant}-github-backup`): string =>
  `/api/github/backup/list?tenant=${tenant}&bucket=${bucket}`;
const A_LIST = list('tenant-a');
const B_LIST = list('tenant-b');

const oidcVars = (policy: unknown, more: Record<string, string> = {}): Record<string, string> => ({
  CLOUDCONNECT: newToken(),
  OIDC_ISSUER: issuer.issuer,
  OIDC_JWKS_URL: issuer.jwksUrl,
  OIDC_AUDIENCE: AUDIENCE,
  OIDC_POLICY: JSON.stringify(policy),
  ...more,
});

beforeAll(async () => {
  issuer = await startIssuer();
  stack = await startLocalStack({
    env: 'test',
    vars: oidcVars(
      {
        owners: ['Acme'],
        repositories: {
          'ops/backup-admin': { tenants: ['tenant-a', 'tenant-b'] },
          'acme/monorepo': { tenants: ['monorepo', 'tenant-b'] },
        },
      },
      { TENANT_BUCKETS: JSON.stringify({ 'web-app': 'my-bucket', docs: 'my-bucket' }) },
    ),
  });
});
afterAll(async () => {
  await stack?.stop();
  await issuer?.close();
});

const answer = async (
  on: LocalStack,
  token: string,
  path: string,
): Promise<{ status: number; body: unknown }> => {
  const response = await apiClient(on, token)(path);
  return { status: response.status, body: await readJson(response) };
};
const statusOn = async (on: LocalStack, token: string, path: string): Promise<number> =>
  (await apiClient(on, token)(path)).status;
const status = async (token: string, path = A_LIST): Promise<number> => statusOn(stack, token, path);
const notAllowed = (repository: string): { status: number; body: unknown } => ({
  status: 401,
  body: {
    success: false,
    error: 'Unauthorized',
    reason: `OIDC token refused: repository ${repository} is not allowed by OIDC_POLICY`,
  },
});

const WEB_LIST = list('web-app', 'my-bucket');
const DOCS_LIST = list('docs', 'my-bucket');

// First, while nothing else has fetched the keys: several requests, one JWKS fetch.
test('the JWKS is fetched once and cached across requests and repositories', async () => {
  expect(issuer.fetches()).toBe(0);
  const tokens = await Promise.all([
    issuer.sign('acme/web-app'),
    issuer.sign('acme/docs'),
    issuer.sign('acme/web-app'),
  ]);
  expect(await status(tokens[0]!, WEB_LIST)).toBe(200);
  expect(
    await Promise.all([
      status(tokens[1]!, DOCS_LIST),
      status(tokens[2]!, WEB_LIST),
      status(tokens[0]!, WEB_LIST),
    ]),
  ).toEqual([200, 200, 200]);
  for (let i = 0; i < 4; i++) expect(await status(await issuer.sign('acme/docs'), DOCS_LIST)).toBe(200);
  expect(issuer.fetches()).toBe(1);
});

test('owner names match case-insensitively; an explicit repository grant adds tenants', async () => {
  expect(await status(await issuer.sign('ACME/web-app'), WEB_LIST)).toBe(200);
  expect(await status(await issuer.sign('acme/web-app'), DOCS_LIST)).toBe(403);
  const ops = await issuer.sign('ops/backup-admin');
  expect([await status(ops), await status(ops, B_LIST)]).toEqual([200, 200]);
  // ...but not the tenant named like the repository, nor every tenant.
  expect(await status(ops, list('backup-admin'))).toBe(403);
  expect(await status(ops, '/api/github/backup/list?bucket=tenant-a-github-backup')).toBe(403);
});

// Attack: a tenant granted explicitly to some repositories is taken by a new repository of a
// listed owner that is named like it.
test('a tenant granted explicitly is never granted implicitly by "owners"', async () => {
  // tenant-b belongs to acme/monorepo (and ops/backup-admin) only...
  expect(await status(await issuer.sign('acme/monorepo'), B_LIST)).toBe(200);
  // ...so acme/tenant-b, created later, gets nothing; nor does a name differing only in case,
  // nor acme/tenant-a (tenant-a is granted to ops/backup-admin, of another owner).
  for (const repository of ['acme/tenant-b', 'acme/TENANT-B', 'acme/tenant-a']) {
    expect(await answer(stack, await issuer.sign(repository), B_LIST)).toEqual(notAllowed(repository));
  }
});

// Attack: with two owners listed, other-org/tenant-a reaches acme/tenant-a's tenant.
describe('two owners in the list form of "owners"', () => {
  let twoOwners: LocalStack;
  beforeAll(async () => {
    twoOwners = await startLocalStack({ env: 'test', vars: oidcVars({ owners: ['acme', 'other-org'] }) });
  });
  afterAll(async () => {
    await twoOwners?.stop();
  });

  test('is refused as a misconfiguration (500): their repositories could share a tenant', async () => {
    for (const repository of ['other-org/tenant-a', 'acme/tenant-a']) {
      expect(await answer(twoOwners, await issuer.sign(repository), A_LIST)).toEqual({
        status: 500,
        body: {
          success: false,
          error: expect.stringMatching(
            /^Worker misconfigured: OIDC_POLICY "owners" lists 2 owners in a list/,
          ),
        },
      });
    }
  });
});

describe('owners with tenant naming rules and immutable ids', () => {
  let named: LocalStack;
  const SHARED = 'my-bucket'; // both owners' tenants in one bucket: only the tenant name separates them
  const acmeA = list('tenant-a', SHARED);
  const otherA = list('other-org--tenant-a', SHARED);

  beforeAll(async () => {
    named = await startLocalStack({
      env: 'test',
      vars: oidcVars(
        {
          owners: {
            acme: { id: Number(ownerId('acme')), tenant: '{repo}' },
            'Other-Org': { id: ownerId('other-org'), tenant: '{owner}--{repo}' },
          },
          repositories: {
            'acme/monorepo': { id: repositoryId('acme/monorepo'), tenants: ['monorepo', 'tenant-b'] },
          },
        },
        {
          TENANT_BUCKETS: JSON.stringify({
            'tenant-a': SHARED,
            'other-org--tenant-a': SHARED,
            'acme--tenant-a': SHARED,
          }),
        },
      ),
    });
  });
  afterAll(async () => {
    await named?.stop();
  });

  test('implicit tenants of different owners never share a name: {owner}--{repo}', async () => {
    const acme = await issuer.sign('acme/tenant-a');
    const other = await issuer.sign('other-org/tenant-a');
    expect([await statusOn(named, acme, acmeA), await statusOn(named, acme, otherA)]).toEqual([200, 403]);
    expect([await statusOn(named, other, otherA), await statusOn(named, other, acmeA)]).toEqual([200, 403]);
    // Only the owner with the "{owner}--{repo}" rule is qualified: acme's tenant is not acme--tenant-a.
    expect(await statusOn(named, acme, list('acme--tenant-a', SHARED))).toBe(403);
  });

  test("a repository of the {repo} owner named into another owner's namespace gets nothing", async () => {
    const squatter = await issuer.sign('acme/other-org--tenant-a');
    expect(await answer(named, squatter, otherA)).toEqual(notAllowed('acme/other-org--tenant-a'));
  });

  test('explicit beats implicit in this form too', async () => {
    expect(await statusOn(named, await issuer.sign('acme/monorepo'), B_LIST)).toBe(200);
    expect(await answer(named, await issuer.sign('acme/tenant-b'), B_LIST)).toEqual(
      notAllowed('acme/tenant-b'),
    );
  });

  test('a re-created repository of the same name (another repository_id) is refused', async () => {
    for (const claims of [{ repository_id: '1' }, { repository_id: undefined }]) {
      expect(await answer(named, await issuer.sign('acme/monorepo', claims), B_LIST)).toEqual({
        status: 401,
        body: {
          success: false,
          error: 'Unauthorized',
          reason: expect.stringMatching(/"repository_id" .*acme\/monorepo/),
        },
      });
    }
  });

  test('an owner re-registered under the same name (another repository_owner_id) is refused', async () => {
    for (const [repository, path] of [
      ['acme/tenant-a', acmeA],
      ['other-org/tenant-a', otherA],
      ['acme/monorepo', B_LIST],
    ] as const) {
      for (const claims of [{ repository_owner_id: '7' }, { repository_owner_id: undefined }]) {
        expect(await answer(named, await issuer.sign(repository, claims), path)).toEqual({
          status: 401,
          body: {
            success: false,
            error: 'Unauthorized',
            reason: expect.stringMatching(/"repository_owner_id" .*owner/),
          },
        });
      }
    }
  });
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

describe('OIDC_POLICY grant rules (parsing)', () => {
  const configError = (json: unknown): string => {
    try {
      parseOidcPolicy(JSON.stringify(json));
    } catch (error) {
      if (error instanceof HttpError && error.status === 500) return error.message;
      throw error;
    }
    throw new Error('policy accepted');
  };

  test.each<[string, unknown, RegExp]>([
    ['two owners in the list form', { owners: ['acme', 'Other-Org'] }, /"owners" lists 2 owners in a list/],
    [
      'two owners both named {repo}',
      { owners: { acme: { tenant: '{repo}' }, other: { tenant: '{repo}' } } },
      /at most one owner may have "tenant": "\{repo\}"/,
    ],
    ['an owner without a rule', { owners: { acme: {} } }, /"owners" entry acme "tenant" must be/],
    ['an unknown rule', { owners: { acme: { tenant: '{repo}-x' } } }, /"tenant" must be "\{repo\}" or/],
    [
      'an owner given twice',
      { owners: { acme: { tenant: '{repo}' }, ACME: { tenant: '{owner}--{repo}' } } },
      /acme more than once/,
    ],
    [
      'an unknown owner field',
      { owners: { acme: { tenant: '{repo}', tenants: ['x'] } } },
      /may only have "tenant", "id" and "role"/,
    ],
    ['an owner id that is no number', { owners: { acme: { tenant: '{repo}', id: 'acme' } } }, /"id" must be/],
    ['an owner id below 1', { owners: { acme: { tenant: '{repo}', id: 0 } } }, /"id" must be/],
    [
      'a qualified owner name with "--"',
      { owners: { 'a--b': { tenant: '{owner}--{repo}' } } },
      /"owners" keys: each must match/,
    ],
    [
      'a repository id that is no number',
      { repositories: { 'acme/x': { tenants: ['x'], id: 1.5 } } },
      /"id" must be/,
    ],
    [
      'an unknown repository field',
      { repositories: { 'acme/x': { tenants: ['x'], owner_id: 1 } } },
      /may only have "tenants", "buckets", "id" and "role"/,
    ],
  ])('%s is refused', (_, policy, message) => {
    expect(configError(policy)).toMatch(/^Worker misconfigured: OIDC_POLICY /);
    expect(configError(policy)).toMatch(message);
  });

  test('the list form of one owner still means "{repo}"; ids are kept as decimal strings', () => {
    const policy = parseOidcPolicy(
      JSON.stringify({
        owners: ['Acme'],
        repositories: { 'Acme/Mono': { tenants: ['mono', 'Shared'], id: 42 } },
      }),
    );
    expect([...policy.owners]).toEqual([['acme', { tenant: '{repo}' }]]);
    expect(policy.repositories.get('acme/mono')).toEqual({ tenants: ['mono', 'Shared'], id: '42' });
    expect([...policy.explicitTenants]).toEqual(['mono', 'shared']);
  });
});
