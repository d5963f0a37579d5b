// Auth configuration: what the parsers accept and refuse (pure logic), and a Worker whose
// TENANT_TOKENS and OIDC_POLICY are broken: it fails closed (500, naming the variable, never its
// value) for the credentials that need them, while the admin token still works.
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { HttpError } from '../../worker/src/http.js';
import { parseOidcPolicy, readOidcConfig } from '../../worker/src/oidc.js';
import { bucketsOfTenants, parseTenantBuckets } from '../../worker/src/principal.js';
import { parseTenantTokens } from '../../worker/src/tenant-tokens.js';
import { apiClient, newToken, readJson } from '../worker/helpers.js';

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError && error.status === 500) return error.message;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('TENANT_TOKENS', () => {
  const digest = 'ab'.repeat(32);
  test('entries with and without buckets; absent means no tokens', () => {
    const tokens = parseTenantTokens(
      JSON.stringify({
        [digest.toUpperCase()]: { tenants: ['a'] },
        ['cd'.repeat(32)]: { tenants: ['b'], buckets: ['bb-bucket'] },
        ['ef'.repeat(32)]: { tenants: ['c'], role: 'maintain' },
        ['01'.repeat(32)]: { tenants: ['d'], role: 'backup' },
      }),
    );
    expect(tokens.get(digest)).toEqual({ tenants: ['a'] });
    expect(tokens.get('ef'.repeat(32))).toEqual({ tenants: ['c'], role: 'maintain' });
    expect(tokens.get('01'.repeat(32))).toEqual({ tenants: ['d'], role: 'backup' });
    expect(tokens.get('cd'.repeat(32))).toEqual({ tenants: ['b'], buckets: ['bb-bucket'] });
    expect(parseTenantTokens(undefined).size).toBe(0);
  });

  test.each([
    ['{"not json', /TENANT_TOKENS is not valid JSON/],
    ['["list"]', /must be a JSON object/],
    [
      '{"r2b_a-token-pasted-by-mistake": {"tenants": ["a"]}}',
      /entry 1: keys must be SHA-256 hex digests of tokens, not tokens/,
    ],
    [`{"${digest}": {"tenants": []}}`, /"tenants" must be a non-empty list/],
    [`{"${digest}": {"tenants": "a"}}`, /"tenants" must be a non-empty list/],
    [`{"${digest}": {"tenants": ["../b"]}}`, /"tenants": each must/],
    [`{"${digest}": {"tenants": ["a"], "buckets": []}}`, /"buckets" must be a non-empty list/],
    [
      `{"${digest}": {"tenants": ["a"], "buckets": ["Not_A_Bucket"]}}`,
      /"buckets": each must be an R2 bucket name/,
    ],
    [
      `{"${digest}": {"tenants": ["a"], "bucket": ["typo"]}}`,
      /may only have "tenants", "buckets" and "role"/,
    ],
    [`{"${digest}": {"tenants": ["a"], "role": "admin"}}`, /entry 1 "role" must be "backup" or "maintain"/],
    [`{"${digest}": {"tenants": ["a"], "role": ["maintain"]}}`, /"role" must be "backup" or "maintain"/],
  ])('%s is refused', (json, message) => {
    const error = configError(() => parseTenantTokens(json));
    expect(error).toMatch(message);
    expect(error).not.toContain('r2b_');
  });
});

describe('TENANT_BUCKETS', () => {
  test('maps tenants to buckets; others get {tenant}-github-backup, nothing inherited', () => {
    const map = parseTenantBuckets('{"a": "shared-bucket"}');
    expect(bucketsOfTenants(['a', 'b', 'constructor', '__proto__'], map)).toEqual([
      'shared-bucket',
      'b-github-backup',
      'constructor-github-backup',
      'proto-github-backup', // common/naming.ts defaultBucket: `_` as `-`, none at the ends
    ]);
    expect(configError(() => parseTenantBuckets('{"a": "BAD"}'))).toMatch(
      /TENANT_BUCKETS must map tenants to bucket names/,
    );
  });
});

describe('OIDC config', () => {
  test('off when no OIDC variable is set; an audience is required otherwise', () => {
    expect(readOidcConfig({})).toBeUndefined();
    expect(configError(() => readOidcConfig({ OIDC_POLICY: '{"owners": ["acme"]}' }))).toMatch(
      /OIDC_AUDIENCE is required/,
    );
    expect(readOidcConfig({ OIDC_AUDIENCE: 'x' })).toMatchObject({
      issuer: 'https://token.actions.githubusercontent.com',
      jwksUrl: 'https://token.actions.githubusercontent.com/.well-known/jwks',
    });
  });

  test('keys only over https, or http on loopback', () => {
    expect(
      configError(() =>
        readOidcConfig({ OIDC_AUDIENCE: 'x', OIDC_JWKS_URL: 'http://keys.example.com/jwks' }),
      ),
    ).toMatch(/OIDC_JWKS_URL must be an https URL/);
    expect(readOidcConfig({ OIDC_AUDIENCE: 'x', OIDC_JWKS_URL: 'http://127.0.0.1:1/jwks' })?.jwksUrl).toBe(
      'http://127.0.0.1:1/jwks',
    );
  });

  test.each([
    ['{"owners": "acme"}', /"owners" must be a non-empty list/], // a string would match substrings
    ['{"owners": ["acme/repo"]}', /"owners": each must match/],
    ['{"owner": ["acme"]}', /may only have "owners" and "repositories"/],
    ['{"repositories": {"acme": {"tenants": ["a"]}}}', /"repositories" keys: each must match/],
    [
      '{"repositories": {"acme/x": {"tenants": ["a"], "buckets": "b"}}}',
      /"buckets" must be a non-empty list/,
    ],
    ['{"repositories": []}', /"repositories" must be an object/],
    ['owners: acme', /OIDC_POLICY is not valid JSON/],
    [
      '{"owners": {"acme": {"tenant": "{repo}", "role": "owner"}}}',
      /"owners" entry acme "role" must be "backup" or "maintain"/,
    ],
    [
      '{"repositories": {"acme/x": {"tenants": ["a"], "role": "admin"}}}',
      /"repositories" entry acme\/x "role" must be "backup" or "maintain"/,
    ],
  ])('policy %s is refused', (json, message) => {
    expect(configError(() => parseOidcPolicy(json))).toMatch(message);
  });

  test('a valid policy, names lower-cased', () => {
    const policy = parseOidcPolicy('{"owners": ["Acme"], "repositories": {"Ops/Tools": {"tenants": ["t"]}}}');
    expect([...policy.owners.keys()]).toEqual(['acme']);
    expect(policy.repositories.get('ops/tools')).toEqual({ tenants: ['t'] });
  });
});

describe('a Worker with broken auth config', () => {
  let stack: LocalStack;
  const admin = newToken();
  const tenantToken = createTenantToken(['tenant-a']).token;
  // A token pasted as the key by mistake: its text must never be echoed.
  const brokenTokens = `{"${tenantToken}": {"tenants": ["tenant-a"]}}`;

  beforeAll(async () => {
    stack = await startLocalStack({
      env: 'test',
      vars: {
        CLOUDCONNECT: admin,
        TENANT_TOKENS: brokenTokens,
        OIDC_AUDIENCE: 'x',
        OIDC_POLICY: '{"owners": acme}',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const list = '/api/github/backup/list?tenant=tenant-a&bucket=tenant-a-github-backup';

  test('refuses tenant tokens and ID tokens with 500 naming the variable, never the value', async () => {
    const jwtLike = 'eyJhbGciOiJSUzI1NiJ9.eyJyZXBvc2l0b3J5IjoiYWNtZS90ZW5hbnQtYSJ9.c2ln';
    for (const [token, variable] of [
      [tenantToken, 'TENANT_TOKENS'],
      ['anything', 'TENANT_TOKENS'],
      [jwtLike, 'OIDC_POLICY'],
    ] as const) {
      const response = await apiClient(stack, token)(list);
      const text = await response.text();
      expect({ status: response.status, body: JSON.parse(text) }).toEqual({
        status: 500,
        body: {
          success: false,
          error: expect.stringMatching(new RegExp(`^Worker misconfigured: ${variable} `)),
        },
      });
      expect(text).not.toContain(tenantToken);
    }
    expect(stack.output()).not.toContain(tenantToken.slice(4));
  });

  test('the admin token still works, and no credential still gets 401', async () => {
    expect((await apiClient(stack, admin)(list)).status).toBe(200);
    const response = await apiClient(stack, null)(list);
    expect({ status: response.status, body: await readJson(response) }).toEqual({
      status: 401,
      body: { success: false, error: 'Unauthorized' },
    });
  });
});

describe('createTenantToken (token create)', () => {
  test('a random token that is no JWT, its digest entry and principal', () => {
    const made = createTenantToken(['web-app', 'web-app'], ['web-backups']);
    expect(made.token).toMatch(/^r2b_[\w-]{43}$/);
    expect(made.token).not.toBe(createTenantToken(['web-app']).token);
    expect(JSON.parse(`{${made.configEntry}}`)).toEqual({
      [made.sha256]: { tenants: ['web-app'], buckets: ['web-backups'], role: 'backup' },
    });
    expect(parseTenantTokens(`{${made.configEntry}}`).get(made.sha256)).toEqual({
      tenants: ['web-app'],
      buckets: ['web-backups'],
      role: 'backup',
    });
    expect(made.principal).toBe(`token:${made.sha256.slice(0, 12)}`);
    const maintain = createTenantToken(['web-app'], [], 'maintain');
    expect(JSON.parse(`{${maintain.configEntry}}`)).toEqual({
      [maintain.sha256]: { tenants: ['web-app'], role: 'maintain' },
    });
  });

  test('refuses no tenant, a bad tenant or a bad bucket', () => {
    expect(() => createTenantToken([])).toThrow(/at least one --tenant/);
    expect(() => createTenantToken(['../x'])).toThrow(/Invalid tenant/);
    expect(() => createTenantToken(['x'], ['Bad_Bucket'])).toThrow(/Invalid bucket/);
  });
});
