// Who is calling. A bearer token is, in this order: the admin token CLOUDCONNECT (every tenant),
// a scoped tenant token from TENANT_TOKENS, or a GitHub OIDC ID token (OIDC_*). Each becomes a
// Principal; what it may touch is decided by authorize() in access.ts, never here.
import type { IRequest } from 'itty-router';
import type { Principal } from './access.js';
import type { Env } from './env.js';
import { HttpError } from './http.js';
import { looksLikeJwt, oidcPrincipal, readOidcConfig } from './oidc.js';
import { parseTenantBuckets, type TenantBuckets } from './principal.js';
import { parseTenantTokens, tenantTokenPrincipal } from './tenant-tokens.js';

export type AuthedRequest = IRequest & { principal: Principal };

/** The admin token's name in what it writes. */
export const ADMIN_NAME = 'admin';
const ADMIN: Principal = { name: ADMIN_NAME, tenants: '*', buckets: '*', maintains: '*' };

const unauthorized = (): HttpError =>
  new HttpError(401, 'Unauthorized', {}, { 'www-authenticate': 'Bearer realm="r2-backup"' });

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
}

/** Equal-length digests make the comparison constant-time whatever the token's length. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export async function authenticate(request: Request, env: Env): Promise<Principal> {
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(request.headers.get('authorization') ?? '');
  // No admin secret configured: refuse everyone rather than accept some default. The secret
  // also keys the list cursors, so a Worker without it serves nobody.
  if (!match || !env.CLOUDCONNECT) throw unauthorized();
  const token = match[1]!;
  if (await sameSecret(token, env.CLOUDCONNECT)) return ADMIN;

  // Parsed only when needed, so a broken TENANT_BUCKETS fails only requests that use it.
  let tenantBuckets: TenantBuckets | undefined;
  const buckets = (): TenantBuckets => (tenantBuckets ??= parseTenantBuckets(env.TENANT_BUCKETS));

  // An ID token is judged by OIDC alone: its refusal says why (expired, wrong audience, ...).
  const oidc = looksLikeJwt(token) ? readOidcConfig(env) : undefined;
  if (oidc) return oidcPrincipal(token, oidc, buckets);

  const scoped = await tenantTokenPrincipal(token, parseTenantTokens(env.TENANT_TOKENS), buckets);
  if (scoped) return scoped;
  throw unauthorized();
}

/** Middleware: sets request.principal or answers 401 (500 when the auth config is broken). */
export async function withPrincipal(request: IRequest, env: Env): Promise<void> {
  request.principal = await authenticate(request as unknown as Request, env);
}
