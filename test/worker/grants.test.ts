// worker/src/grants.ts: one parser for every grant of the Worker's configuration (TENANT_TOKENS
// entries, OIDC_POLICY "owners" and "repositories" entries) and one function for what a grant
// gives. Pure logic, no stack.
import { grantScope, parseGrant, type GrantField } from '../../worker/src/grants.js';
import { HttpError } from '../../worker/src/http.js';
import { parseOidcPolicy } from '../../worker/src/oidc-grants.js';
import { parseTenantTokens } from '../../worker/src/tenant-tokens.js';

const ALL: GrantField[] = ['tenant', 'tenants', 'buckets', 'id', 'role'];
const REPOSITORY: GrantField[] = ['tenants', 'buckets', 'id', 'role'];

/** The 500 a broken grant gives, as its message. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError && error.status === 500) return error.message;
    throw error;
  }
  throw new Error('the grant was accepted');
}

const refusalOf = (value: unknown, fields = REPOSITORY): string =>
  refusal(() => parseGrant('VAR', 'entry x', value, fields));

describe('parseGrant', () => {
  test('keeps the fields given, omits the optional ones absent, ids as decimal strings', () => {
    expect(parseGrant('VAR', 'entry x', { tenants: ['a', 'B.c'] }, REPOSITORY)).toEqual({
      tenants: ['a', 'B.c'],
    });
    expect(
      parseGrant(
        'VAR',
        'entry x',
        { tenant: '{owner}--{repo}', tenants: ['a'], buckets: ['a-bucket'], id: 42, role: 'maintain' },
        ALL,
      ),
    ).toEqual({
      tenant: '{owner}--{repo}',
      tenants: ['a'],
      buckets: ['a-bucket'],
      id: '42',
      role: 'maintain',
    });
    expect(parseGrant('VAR', 'entry x', { tenant: '{repo}', id: '7' }, ['tenant', 'id'])).toEqual({
      tenant: '{repo}',
      id: '7',
    });
  });

  test.each<[string, unknown, GrantField[], string]>([
    [
      'a list',
      [],
      ['tenants', 'buckets', 'role'],
      'entry x must be an object {"tenants": [...], "buckets"?: [...], "role"?: "backup" | "maintain"}',
    ],
    [
      'null',
      null,
      ['tenant', 'id', 'role'],
      'entry x must be an object {"tenant": "{repo}" | "{owner}--{repo}", "id"?: number, "role"?: "backup" | "maintain"}',
    ],
    [
      'an unknown field',
      { tenants: ['a'], bucket: ['b'] },
      ['tenants', 'buckets', 'role'],
      'entry x may only have "tenants", "buckets" and "role"',
    ],
    [
      'a field of another kind',
      { tenant: '{repo}', tenants: ['a'] },
      ['tenant', 'id', 'role'],
      'entry x may only have "tenant", "id" and "role"',
    ],
    ['no tenants', {}, REPOSITORY, 'entry x "tenants" must be a non-empty list'],
    ['an empty tenant list', { tenants: [] }, REPOSITORY, 'entry x "tenants" must be a non-empty list'],
    [
      'an invalid tenant',
      { tenants: ['../b'] },
      REPOSITORY,
      'entry x "tenants": each must be 1-100 characters',
    ],
    [
      'an empty bucket list',
      { tenants: ['a'], buckets: [] },
      REPOSITORY,
      'entry x "buckets" must be a non-empty list',
    ],
    [
      'an invalid bucket',
      { tenants: ['a'], buckets: ['Not_A_Bucket'] },
      REPOSITORY,
      'entry x "buckets": each must be an R2 bucket name',
    ],
    ['no rule', {}, ['tenant'], 'entry x "tenant" must be "{repo}" or "{owner}--{repo}"'],
    [
      'an unknown rule',
      { tenant: '{repo}-x' },
      ['tenant'],
      'entry x "tenant" must be "{repo}" or "{owner}--{repo}"',
    ],
    [
      'an id below 1',
      { tenants: ['a'], id: 0 },
      REPOSITORY,
      'entry x "id" must be a positive integer (the GitHub id)',
    ],
    ['a fractional id', { tenants: ['a'], id: 1.5 }, REPOSITORY, 'entry x "id" must be a positive integer'],
    [
      'an id that is a name',
      { tenants: ['a'], id: 'acme' },
      REPOSITORY,
      'entry x "id" must be a positive integer',
    ],
    [
      'an unknown role',
      { tenants: ['a'], role: 'admin' },
      REPOSITORY,
      'entry x "role" must be "backup" or "maintain"',
    ],
    [
      'a role in a list',
      { tenants: ['a'], role: ['maintain'] },
      REPOSITORY,
      'entry x "role" must be "backup" or "maintain"',
    ],
  ])('%s is refused, naming the variable and the entry', (_what, value, fields, message) => {
    const expected = `Worker misconfigured: VAR ${message}`;
    expect(refusalOf(value, fields).slice(0, expected.length)).toBe(expected);
  });

  test('never quotes a value', () => {
    const secret = 'r2b/SECRET value'; // no tenant, bucket, id, role or field name
    for (const value of [
      { tenants: [secret] },
      { tenants: ['a'], buckets: [secret] },
      { tenants: ['a'], id: secret },
      { tenants: ['a'], role: secret },
      { tenants: ['a'], [secret]: 1 },
    ]) {
      expect(refusalOf(value)).not.toContain('SECRET');
    }
  });

  test('a "__proto__" key is an unknown field, not a way to a role', () => {
    const value: unknown = JSON.parse('{"tenants": ["a"], "__proto__": {"role": "maintain"}}');
    expect(refusalOf(value)).toMatch(/may only have "tenants", "buckets", "id" and "role"$/);
  });
});

describe('TENANT_TOKENS entries and OIDC_POLICY repositories are one grant', () => {
  const digest = 'ab'.repeat(32);
  const asToken = (grant: unknown): unknown =>
    parseTenantTokens(JSON.stringify({ [digest]: grant })).get(digest);
  const asRepository = (grant: unknown): unknown =>
    parseOidcPolicy(JSON.stringify({ repositories: { 'acme/x': grant } })).repositories.get('acme/x');
  const ruleOf = (message: string): string => message.replace(/^.*?(entry 1|entry acme\/x) /, '');

  test.each([
    { tenants: ['a'] },
    { tenants: ['a', 'b'], buckets: ['shared-bucket'] },
    { tenants: ['a'], role: 'maintain' },
  ])('%j parses alike', (grant) => {
    expect(asToken(grant)).toEqual(grant);
    expect(asRepository(grant)).toEqual(grant);
  });

  test.each([{ tenants: [] }, { tenants: ['a'], buckets: ['BAD'] }, { tenants: ['a'], role: 'owner' }, 'a'])(
    '%j is refused by the same rule',
    (grant) => {
      const token = refusal(() => asToken(grant));
      const repository = refusal(() => asRepository(grant));
      expect(token).toMatch(/^Worker misconfigured: TENANT_TOKENS entry 1 /);
      expect(repository).toMatch(/^Worker misconfigured: OIDC_POLICY "repositories" entry acme\/x /);
      // The same rule, except that an OIDC grant also allows "id".
      expect(ruleOf(repository).replace(', "id"?: number', '')).toBe(ruleOf(token));
    },
  );
});

describe('grantScope', () => {
  let reads = 0;
  const tenantBuckets = (): Map<string, string> => {
    reads++;
    return new Map([['a', 'shared-bucket']]);
  };
  beforeEach(() => (reads = 0));

  test('the buckets named, without reading TENANT_BUCKETS', () => {
    expect(grantScope({ tenants: ['a', 'b'], buckets: ['x-bucket'] }, tenantBuckets)).toEqual({
      tenants: ['a', 'b'],
      buckets: ['x-bucket'],
      maintains: [],
    });
    expect(reads).toBe(0);
  });

  test("else each tenant's bucket: TENANT_BUCKETS, else the default", () => {
    expect(grantScope({ tenants: ['a', 'My.Repo'] }, tenantBuckets).buckets).toEqual([
      'shared-bucket',
      'my-repo-github-backup',
    ]);
    expect(reads).toBe(1);
  });

  test('the maintain role may delete from its tenants; backup and no role from none', () => {
    expect(
      grantScope({ tenants: ['a'], buckets: ['b-b'], role: 'maintain' }, tenantBuckets).maintains,
    ).toEqual(['a']);
    expect(grantScope({ tenants: ['a'], buckets: ['b-b'], role: 'backup' }, tenantBuckets).maintains).toEqual(
      [],
    );
    expect(grantScope({ tenants: ['a'], buckets: ['b-b'] }, tenantBuckets).maintains).toEqual([]);
  });
});
