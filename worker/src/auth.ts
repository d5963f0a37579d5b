// Who is calling. Today there is one credential, the admin token CLOUDCONNECT; scoped tenant
// tokens and OIDC plug in here (authenticate returns a narrower Principal) without any route
// changing, because every route asks authorize() in access.ts.
import type { IRequest } from 'itty-router';
import type { Env } from './env.js';
import type { Principal } from './access.js';
import { HttpError } from './http.js';

export type AuthedRequest = IRequest & { principal: Principal };

const ADMIN: Principal = { name: 'admin', tenants: '*', buckets: '*' };

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
  // No secret configured: refuse everyone rather than accept some default.
  if (!match || !env.CLOUDCONNECT) throw unauthorized();
  if (await sameSecret(match[1]!, env.CLOUDCONNECT)) return ADMIN;
  throw unauthorized();
}

/** Middleware: sets request.principal or answers 401. */
export async function withPrincipal(request: IRequest, env: Env): Promise<void> {
  request.principal = await authenticate(request as unknown as Request, env);
}
