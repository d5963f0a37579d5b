// GitHub Actions OIDC: a workflow with `id-token: write` sends a short-lived ID token instead of
// a stored secret. The token's signature is checked against the issuer's JWKS (cached per
// isolate by jose), then OIDC_POLICY maps its repository to the tenants it may touch.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { checkBucket, checkTenant } from '../../common/validate.js';
import { bucketsOfTenants, type Principal } from './principal.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** OIDC_POLICY: `owners` lets every repository of those owners use the tenant named like the
 *  repository; `repositories` grants named repositories extra tenants (and buckets). */
export interface OidcPolicy {
  owners?: string[];
  repositories?: Record<string, { tenants: string[]; buckets?: string[] }>;
}

export interface OidcConfig {
  issuer: string;
  jwksUrl: string;
  audience: string;
  policy: OidcPolicy;
}

export function readOidcConfig(env: {
  OIDC_ISSUER?: string;
  OIDC_JWKS_URL?: string;
  OIDC_AUDIENCE?: string;
  OIDC_POLICY?: string;
}): OidcConfig | undefined {
  // Without an audience no token can be checked as meant for this Worker: OIDC stays off.
  if (!env.OIDC_AUDIENCE) return undefined;
  const issuer = (env.OIDC_ISSUER || GITHUB_ISSUER).replace(/\/+$/, '');
  const policy = env.OIDC_POLICY ? (JSON.parse(env.OIDC_POLICY) as OidcPolicy) : {};
  for (const grant of Object.values(policy.repositories ?? {})) {
    grant.tenants.forEach((tenant) => checkTenant(tenant, 'OIDC_POLICY tenant'));
    grant.buckets?.forEach((bucket) => checkBucket(bucket, 'OIDC_POLICY bucket'));
  }
  return {
    issuer,
    jwksUrl: env.OIDC_JWKS_URL || `${issuer}/.well-known/jwks`,
    audience: env.OIDC_AUDIENCE,
    policy,
  };
}

/** Three base64url parts: worth trying as a JWT before the plain tokens. */
export const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function keySet(url: string): ReturnType<typeof createRemoteJWKSet> {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
    });
    keySets.set(url, set);
  }
  return set;
}

interface GitHubClaims extends JWTPayload {
  repository?: string;
  repository_owner?: string;
}

/** The principal of a valid token, or undefined when the token is not valid for this Worker. */
export async function oidcPrincipal(
  token: string,
  config: OidcConfig,
  tenantBuckets: Record<string, string>,
): Promise<Principal | undefined> {
  let claims: GitHubClaims;
  try {
    ({ payload: claims } = await jwtVerify<GitHubClaims>(token, keySet(config.jwksUrl), {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ['RS256', 'ES256'], // never `none`, never an HMAC keyed by a public key
      requiredClaims: ['exp', 'iat', 'repository', 'repository_owner'],
      clockTolerance: 30,
    }));
  } catch {
    return undefined;
  }
  const repository = claims.repository!;
  const [owner, name] = repository.split('/');
  if (!owner || !name || owner !== claims.repository_owner) return undefined;

  const tenants = new Set<string>();
  if (config.policy.owners?.includes(owner)) tenants.add(name);
  const grant = config.policy.repositories?.[repository];
  grant?.tenants.forEach((tenant) => tenants.add(tenant));
  if (tenants.size === 0) return undefined;
  const buckets = grant?.buckets ?? bucketsOfTenants([...tenants], tenantBuckets);
  return { name: `oidc:${repository}`, tenants: [...tenants], buckets };
}
