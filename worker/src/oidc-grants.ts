// OIDC_POLICY: which tenants the ID token of a GitHub repository may use. The policy is parsed
// and a token's repository resolved to tenants here, in one place, so the rules that keep
// grants from colliding sit together (docs/security.md, "GitHub OIDC"):
//
// 1. Explicit beats implicit: a tenant named in any "repositories" grant is never granted by
//    "owners" (compared case-insensitively), so a new repository named like it gets nothing.
// 2. Implicit tenants of different owners never share a name: at most one owner has its
//    repositories' tenants named "{repo}"; every other owner's are "{owner}--{repo}", and a
//    "{repo}" name inside such an owner's "{owner}--" namespace is not granted. The list form
//    `"owners": ["acme"]` is one "{repo}" owner; a list of two or more is refused.
// 3. Immutable ids: an owner or repository entry with "id" matches only tokens whose
//    `repository_owner_id` / `repository_id` claim is that id; any other token naming it is
//    refused, so a re-created repository or re-registered account of the same name is not it.
// Roles: an owner or repository entry may say "role": "maintain" (prune and delete the tenants
// it grants); without it a grant is "backup" (add and read, never delete).
import { repositoryTenant } from '../../common/naming.js';
import { checkTenant } from '../../common/validate.js';
import { configNames, misconfigured, parseConfigObject } from './config-json.js';
import { grantScope, grantShape, parseGrant, type GrantFields, type GrantScope } from './grants.js';
import type { TenantBuckets } from './principal.js';

const OWNER_FIELDS = ['tenant', 'id', 'role'] as const;
const REPOSITORY_FIELDS = ['tenants', 'buckets', 'id', 'role'] as const;
export type OwnerGrant = Pick<GrantFields, (typeof OWNER_FIELDS)[number]>;
export type RepositoryGrant = Pick<GrantFields, (typeof REPOSITORY_FIELDS)[number]>;

/** OIDC_POLICY, parsed. Owner and repository names are lower-cased: GitHub's are case-insensitive. */
export interface OidcPolicy {
  /** Every repository of these owners may use its tenant named by the owner's rule. */
  owners: Map<string, OwnerGrant>;
  /** Named repositories (`owner/name`) may use these tenants (and buckets). */
  repositories: Map<string, RepositoryGrant>;
  /** Every tenant of a "repositories" grant, lower-cased: never granted by "owners". */
  explicitTenants: Set<string>;
}

const VARIABLE = 'OIDC_POLICY';
// Owner names as configured (legacy accounts may hold "--" or end with "-")...
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
// ...but an owner whose tenants are "{owner}--{repo}" must follow GitHub's rule for new names
// (single hyphens, none at either end), so that the first "--" of a tenant ends its owner part.
const QUALIFIED_OWNER = /^(?=.{1,39}$)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/;
const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseOwners(owners: unknown): Map<string, OwnerGrant> {
  const map = new Map<string, OwnerGrant>();
  if (Array.isArray(owners)) {
    // The list form names tenants "{repo}": safe for one owner only.
    const names = new Set(configNames(VARIABLE, '"owners"', owners, OWNER));
    if (names.size > 1) {
      throw misconfigured(
        VARIABLE,
        `"owners" lists ${names.size} owners in a list: their repositories could claim the same ` +
          'tenant; write "owners" as an object of owner -> {"tenant": "{owner}--{repo}"} ' +
          '("{repo}" for at most one owner)',
      );
    }
    names.forEach((name) => map.set(name, { tenant: '{repo}' }));
    return map;
  }
  if (!isObject(owners) || Object.keys(owners).length === 0) {
    throw misconfigured(
      VARIABLE,
      '"owners" must be a non-empty list of one owner, or an object of owner -> ' + grantShape(OWNER_FIELDS),
    );
  }
  for (const [key, value] of Object.entries(owners)) {
    const grant = parseGrant(VARIABLE, `"owners" entry ${key}`, value, OWNER_FIELDS);
    const pattern = grant.tenant === '{repo}' ? OWNER : QUALIFIED_OWNER;
    const [name] = configNames(VARIABLE, '"owners" keys', [key], pattern);
    if (map.has(name!)) throw misconfigured(VARIABLE, `"owners" names ${name} more than once`);
    map.set(name!, grant);
  }
  if ([...map.values()].filter((grant) => grant.tenant === '{repo}').length > 1) {
    throw misconfigured(
      VARIABLE,
      'at most one owner may have "tenant": "{repo}": the repositories of two such owners could ' +
        'claim the same tenant; give the others "{owner}--{repo}"',
    );
  }
  return map;
}

function parseRepositories(repositories: unknown): Map<string, RepositoryGrant> {
  const map = new Map<string, RepositoryGrant>();
  if (!isObject(repositories)) {
    throw misconfigured(VARIABLE, '"repositories" must be an object of "owner/name" -> grant');
  }
  for (const [repository, value] of Object.entries(repositories)) {
    const [name] = configNames(VARIABLE, '"repositories" keys', [repository], REPOSITORY);
    if (map.has(name!)) throw misconfigured(VARIABLE, `"repositories" names ${name} more than once`);
    const where = `"repositories" entry ${name}`;
    map.set(name!, parseGrant(VARIABLE, where, value, REPOSITORY_FIELDS));
  }
  return map;
}

export function parseOidcPolicy(json: string | undefined): OidcPolicy {
  const { owners, repositories, ...unknown } = parseConfigObject(VARIABLE, json) ?? {};
  if (Object.keys(unknown).length > 0) {
    throw misconfigured(VARIABLE, 'may only have "owners" and "repositories"');
  }
  const policy: OidcPolicy = {
    owners: owners === undefined ? new Map() : parseOwners(owners),
    repositories: repositories === undefined ? new Map() : parseRepositories(repositories),
    explicitTenants: new Set(),
  };
  for (const grant of policy.repositories.values()) {
    grant.tenants.forEach((tenant) => policy.explicitTenants.add(tenant.toLowerCase()));
  }
  return policy;
}

/** The claims of a verified GitHub ID token that the policy looks at. */
export interface RepositoryClaims {
  /** `owner/name`, already checked against `repository_owner`. */
  repository: string;
  repository_id?: unknown;
  repository_owner_id?: unknown;
}

/** The union of the scopes of the token's grants, or why it is refused. */
export type Grants = GrantScope | { refused: string };

const claimId = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : '';

function isTenant(name: string): boolean {
  try {
    checkTenant(name);
    return true;
  } catch {
    return false;
  }
}

/** The tenant `owner/name` gets from its owner's rule, or undefined when it gets none. */
function implicitTenant(policy: OidcPolicy, owner: string, name: string): string | undefined {
  const rule = policy.owners.get(owner);
  if (!rule) return undefined;
  const tenant = repositoryTenant({ owner, name }, rule.tenant);
  // A name that is no valid tenant (such as `.github` under "{repo}") gets nothing.
  if (!isTenant(tenant)) return undefined;
  const folded = tenant.toLowerCase();
  if (policy.explicitTenants.has(folded)) return undefined;
  // "{owner}--..." belongs to that owner alone (no other owner's repository may be named so).
  for (const [other, { tenant: otherRule }] of policy.owners) {
    if (other !== owner && otherRule === '{owner}--{repo}' && folded.startsWith(`${other}--`))
      return undefined;
  }
  return tenant;
}

/** The tenants and buckets a verified token's repository may use, or why it is refused. */
export function resolveGrants(
  policy: OidcPolicy,
  claims: RepositoryClaims,
  tenantBuckets: () => TenantBuckets,
): Grants {
  const { repository } = claims;
  const [owner = '', name = ''] = repository.split('/');
  const folded = owner.toLowerCase();
  const ownerGrant = policy.owners.get(folded);
  if (ownerGrant?.id !== undefined && claimId(claims.repository_owner_id) !== ownerGrant.id) {
    return {
      refused: `the "repository_owner_id" claim is not the id OIDC_POLICY binds to owner ${folded}`,
    };
  }
  const grant = policy.repositories.get(repository.toLowerCase());
  if (grant?.id !== undefined && claimId(claims.repository_id) !== grant.id) {
    return {
      refused: `the "repository_id" claim is not the id OIDC_POLICY binds to ${repository} (a repository re-created under that name is another repository)`,
    };
  }

  // The claim's own spelling of the name: the tenant is named as the repository is.
  const implicit = implicitTenant(policy, folded, name);
  const scopes = [
    ...(implicit === undefined
      ? []
      : [grantScope({ tenants: [implicit], role: ownerGrant?.role }, tenantBuckets)]),
    ...(grant ? [grantScope(grant, tenantBuckets)] : []),
  ];
  if (scopes.length === 0) return { refused: `repository ${repository} is not allowed by OIDC_POLICY` };
  const union = (pick: (scope: GrantScope) => string[]): string[] => [...new Set(scopes.flatMap(pick))];
  return {
    tenants: union((scope) => scope.tenants),
    buckets: union((scope) => scope.buckets),
    maintains: union((scope) => scope.maintains),
  };
}
