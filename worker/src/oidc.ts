// GitHub Actions OIDC: a workflow with `id-token: write` sends a short-lived ID token instead of
// a stored secret. The token's signature is checked against the issuer's JWKS (fetched once and
// cached per isolate by jose), then OIDC_POLICY maps its repository to the tenants it may touch (oidc-grants.ts).
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { ValidationError, checkHttpUrl } from '../../common/validate.js';
import type { Principal } from './access.js';
import { misconfigured } from './config-json.js';
import { HttpError } from './http.js';
import { parseOidcPolicy, resolveGrants, type OidcPolicy } from './oidc-grants.js';
import type { TenantBuckets } from './principal.js';

export { parseOidcPolicy, type OidcPolicy } from './oidc-grants.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export interface OidcConfig {
  issuer: string;
  jwksUrl: string;
  audience: string;
  policy: OidcPolicy;
}

export interface OidcEnv {
  OIDC_ISSUER?: string;
  OIDC_JWKS_URL?: string;
  OIDC_AUDIENCE?: string;
  OIDC_POLICY?: string;
}

/** Keys only over https (plain http on loopback, for a local test issuer); normalised. */
function checkJwksUrl(value: string): string {
  try {
    return new URL(checkHttpUrl(value, 'OIDC_JWKS_URL', { plainHttp: 'loopback' })).href;
  } catch (error) {
    if (error instanceof ValidationError) throw misconfigured('OIDC_JWKS_URL', error.rule);
    throw error;
  }
}

/** The OIDC settings, or undefined when OIDC is off (no OIDC variable set). */
export function readOidcConfig(env: OidcEnv): OidcConfig | undefined {
  const anySet = env.OIDC_ISSUER || env.OIDC_JWKS_URL || env.OIDC_AUDIENCE || env.OIDC_POLICY;
  if (!anySet) return undefined;
  // Without an audience no token can be checked as meant for this Worker.
  if (!env.OIDC_AUDIENCE) {
    throw misconfigured('OIDC_AUDIENCE', 'is required when any other OIDC_* variable is set');
  }
  const issuer = (env.OIDC_ISSUER || GITHUB_ISSUER).replace(/\/+$/, '');
  return {
    issuer,
    jwksUrl: checkJwksUrl(env.OIDC_JWKS_URL || `${issuer}/.well-known/jwks`),
    audience: env.OIDC_AUDIENCE,
    policy: parseOidcPolicy(env.OIDC_POLICY),
  };
}

/** Three non-empty base64url parts: worth verifying as a JWT. */
export const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

// One key set per JWKS URL for the isolate's life: jose refetches at most every 10 minutes, or
// on an unknown key id (a key rotation) no more than once per 30 seconds.
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
  /** Immutable numeric ids (decimal strings), checked where OIDC_POLICY binds them. */
  repository_id?: string;
  repository_owner_id?: string;
}

const refused = (reason: string): HttpError =>
  new HttpError(
    401,
    'Unauthorized',
    { reason: `OIDC token refused: ${reason}` },
    { 'www-authenticate': 'Bearer realm="r2-backup", error="invalid_token"' },
  );

async function verify(token: string, config: OidcConfig): Promise<GitHubClaims> {
  try {
    const { payload } = await jwtVerify<GitHubClaims>(token, keySet(config.jwksUrl), {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ['RS256', 'ES256'], // never `none`, never an HMAC keyed by a public key
      requiredClaims: ['exp', 'iat', 'repository', 'repository_owner'],
      clockTolerance: 30,
    });
    return payload;
  } catch (error) {
    // jose's messages name the failed check and claim, never the token's values.
    if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout)) {
      throw refused(error.message);
    }
    console.warn(
      `OIDC: could not fetch the issuer's keys (${error instanceof Error ? error.name : 'error'})`,
    );
    throw refused("the issuer's keys could not be fetched");
  }
}

/** The principal of a token valid for this Worker; 401 with the reason otherwise. */
export async function oidcPrincipal(
  token: string,
  config: OidcConfig,
  tenantBuckets: () => TenantBuckets,
): Promise<Principal> {
  const claims = await verify(token, config);
  const repository = String(claims.repository);
  const [owner, name, ...rest] = repository.split('/');
  if (
    !owner ||
    !name ||
    rest.length > 0 ||
    owner.toLowerCase() !== String(claims.repository_owner).toLowerCase()
  ) {
    throw refused('"repository" and "repository_owner" claims disagree');
  }

  const grants = resolveGrants(
    config.policy,
    { repository, repository_id: claims.repository_id, repository_owner_id: claims.repository_owner_id },
    tenantBuckets,
  );
  if ('refused' in grants) throw refused(grants.refused);
  return { name: `oidc:${repository}`, ...grants };
}
