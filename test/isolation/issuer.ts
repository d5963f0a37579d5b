// A local OIDC issuer for the isolation suites: RS256 key pairs made here, the JWKS served on
// loopback (counting fetches), ID tokens shaped like GitHub Actions' for any repository.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';

export const AUDIENCE = 'r2-backup-test';

// GitHub's immutable numeric ids, sent as decimal strings. Here a stable number per name
// (case-insensitive, as GitHub's names are); a test overrides the claim to play a deleted and
// re-created repository or owner of the same name.
const idOf = (name: string): string =>
  String(parseInt(createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 8), 16));
/** The `repository_id` the issuer puts in tokens of `owner/name`. */
export const repositoryId = (repository: string): string => idOf(`repository:${repository}`);
/** The `repository_owner_id` the issuer puts in tokens of repositories of `owner`. */
export const ownerId = (owner: string): string => idOf(`owner:${owner}`);

export interface LocalIssuer {
  issuer: string;
  jwksUrl: string;
  /** How many times the JWKS was fetched. */
  fetches: () => number;
  /** A GitHub-like ID token for `owner/name`; `claims` override or (undefined) remove claims. */
  sign: (repository: string, claims?: Record<string, unknown>, options?: SignOptions) => Promise<string>;
  /** The public key as PEM text (for the HMAC-with-the-public-key attack). */
  publicPem: string;
  kid: string;
  close: () => Promise<void>;
}

export interface SignOptions {
  /** Sign with this private key instead of the issuer's. */
  key?: CryptoKey;
  kid?: string;
}

export async function startIssuer(): Promise<LocalIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'test-key-1';
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  const publicPem = await exportSPKI(publicKey);

  let fetches = 0;
  const server: Server = createServer((request, response) => {
    if (request.url === '/.well-known/jwks') {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const sign = async (
    repository: string,
    claims: Record<string, unknown> = {},
    options: SignOptions = {},
  ): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      sub: `repo:${repository}:ref:refs/heads/main`,
      repository,
      repository_id: repositoryId(repository),
      repository_owner: repository.split('/')[0],
      repository_owner_id: ownerId(repository.split('/')[0]!),
      ref: 'refs/heads/main',
      iss: issuer,
      aud: AUDIENCE,
      iat: now,
      nbf: now - 5,
      exp: now + 300,
      ...claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete payload[name];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? kid })
      .sign(options.key ?? privateKey);
  };

  return {
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks`,
    fetches: () => fetches,
    sign,
    publicPem,
    kid,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
