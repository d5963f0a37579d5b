// common/naming.ts. The default bucket of a tenant is made in one place (defaultBucket) and the
// action, the CLI and the Worker's default grant all use it; a repository's tenant likewise
// (repositoryTenant), for the action's default and the Worker's implicit OIDC tenants.
import { resolveTarget } from '../../action/backup/tenant.js';
import { tenantAndBucket } from '../../cli/connection.js';
import { defaultBucket, repositoryTenant } from '../../common/naming.js';
import { checkBucket, checkTenant } from '../../common/validate.js';
import { parseOidcPolicy, resolveGrants } from '../../worker/src/oidc-grants.js';
import { bucketsOfTenants } from '../../worker/src/principal.js';

describe('defaultBucket', () => {
  test.each([
    ['MyRepo', 'myrepo-github-backup'],
    ['MyRepo.js', 'myrepo-js-github-backup'],
    ['my_repo', 'my-repo-github-backup'],
    ['Meauxbility.ORG', 'meauxbility-org-github-backup'],
    ['tenant-a', 'tenant-a-github-backup'],
    ['A_b-c.d', 'a-b-c-d-github-backup'],
    ['_config', 'config-github-backup'],
    ['-dash-', 'dash-github-backup'],
    ['repo_', 'repo-github-backup'],
    ['a', 'a-github-backup'],
    ['1.0', '1-0-github-backup'],
  ])('%s -> %s, a valid R2 bucket name', (tenant, bucket) => {
    expect(checkTenant(tenant)).toBe(tenant);
    expect(defaultBucket(tenant)).toBe(bucket);
    expect(checkBucket(defaultBucket(tenant))).toBe(bucket);
  });

  test('every tenant of up to 49 characters with a letter or digit gets a valid bucket', () => {
    // Seeded, so that a failure repeats: tenants drawn from GitHub's repository-name alphabet.
    let seed = 17;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-';
    let checked = 0;
    while (checked < 5000) {
      const length = 1 + random(49);
      const tenant = Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
      if (!/[A-Za-z0-9]/.test(tenant)) continue;
      try {
        checkTenant(tenant);
      } catch {
        continue; // a leading "." or a ".." is no tenant
      }
      const bucket = defaultBucket(tenant);
      expect(() => checkBucket(bucket)).not.toThrow();
      expect(bucket).toMatch(/^[a-z0-9][a-z0-9-]*-github-backup$/);
      checked++;
    }
  });

  test('a tenant of 50 characters or more, or without a letter or digit, has no valid default', () => {
    expect(checkBucket(defaultBucket('x'.repeat(49)))).toHaveLength(63);
    expect(() => checkBucket(defaultBucket('x'.repeat(50)))).toThrow(/R2 bucket name/);
    expect(() => checkBucket(defaultBucket('_'))).toThrow(/R2 bucket name/);
    expect(() => checkBucket(defaultBucket('-_-'))).toThrow(/R2 bucket name/);
  });

  test('GitHub repository names are tenants (upper case, dots, underscores, hyphens)', () => {
    for (const name of ['MyRepo', 'MyRepo.js', 'my_repo', 'my-repo', 'A.B_C-D', 'x'.repeat(100)]) {
      expect(checkTenant(name)).toBe(name);
    }
    // The one exception, documented in docs/security.md: `.github` (a leading dot) is no
    // tenant; such a repository names its tenant with the `tenant` input.
    expect(() => checkTenant('.github')).toThrow(/must not start with "."/);
  });
});

describe('the action, the CLI and the Worker agree on the default bucket', () => {
  test.each(['MyRepo', 'MyRepo.js', 'my_repo', 'Meauxbility.ORG', 'tenant-a'])('%s', (tenant) => {
    const expected = defaultBucket(tenant);
    // The action: no tenant or bucket input, so the repository's name and its default bucket.
    const target = resolveTarget(
      { bucketMap: new Map() },
      { eventName: 'push', payload: {}, repositoryName: tenant },
    );
    expect(target).toMatchObject({ tenant, bucket: expected });
    // The CLI: --tenant alone.
    expect(tenantAndBucket({ tenant })).toEqual({ tenant, bucket: expected });
    // The Worker: the bucket a tenant credential gets when its configuration names none.
    expect(bucketsOfTenants([tenant], new Map())).toEqual([expected]);
    // An explicit TENANT_BUCKETS entry still wins.
    expect(bucketsOfTenants([tenant], new Map([[tenant, 'my-bucket']]))).toEqual(['my-bucket']);
  });

  test('the CLI names --bucket when the default is no bucket name', () => {
    expect(() => tenantAndBucket({ tenant: 'x'.repeat(50) })).toThrow(/Invalid --bucket/);
    expect(tenantAndBucket({ tenant: 'x'.repeat(50), bucket: 'my-bucket' }).bucket).toBe('my-bucket');
  });
});

describe('repositoryTenant', () => {
  test('by name, or by owner and name; spelled as the repository is', () => {
    expect(repositoryTenant({ name: 'MyRepo.js' })).toBe('MyRepo.js');
    expect(repositoryTenant({ owner: 'acme', name: 'web-app' }, '{repo}')).toBe('web-app');
    expect(repositoryTenant({ owner: 'Acme', name: 'Web_App' }, '{owner}--{repo}')).toBe('Acme--Web_App');
    expect(() => repositoryTenant({ name: 'web-app' }, '{owner}--{repo}')).toThrow(/needs the owner/);
  });
});

describe("the action and the Worker agree on a repository's tenant", () => {
  const noBuckets = () => new Map<string, string>();
  const grantedTenants = (policy: unknown, repository: string): unknown => {
    const grants = resolveGrants(parseOidcPolicy(JSON.stringify(policy)), { repository }, noBuckets);
    return 'refused' in grants ? grants.refused : grants.tenants;
  };

  test.each(['web-app', 'MyRepo.js', 'my_repo'])('%s', (name) => {
    // The action: no tenant input, so the repository's name.
    const { tenant } = resolveTarget(
      { bucketMap: new Map() },
      { eventName: 'push', payload: {}, repositoryName: name },
    );
    expect(tenant).toBe(repositoryTenant({ name }));
    // The Worker: the tenant an ID token of acme/{name} is granted under each rule.
    expect(grantedTenants({ owners: ['acme'] }, `acme/${name}`)).toEqual([tenant]);
    expect(grantedTenants({ owners: { acme: { tenant: '{owner}--{repo}' } } }, `acme/${name}`)).toEqual([
      repositoryTenant({ owner: 'acme', name }, '{owner}--{repo}'),
    ]);
  });

  test('a repository whose name is no tenant gets none from either', () => {
    expect(() =>
      resolveTarget({ bucketMap: new Map() }, { eventName: 'push', payload: {}, repositoryName: '.github' }),
    ).toThrow(/must not start with "."/);
    expect(grantedTenants({ owners: ['acme'] }, 'acme/.github')).toMatch(/is not allowed by OIDC_POLICY/);
  });
});
