// Credential resolution, once for the backup action, the restore sub-action and the CLI: each
// maps its own settings (action inputs, or CLI flags and environment variables) onto these and
// gets the S3 connection to R2 and the Worker connection back, by the same rules. Every error
// names the setting as its caller calls it (`r2-endpoint`, `--r2-endpoint / R2_ENDPOINT`).
import { checkHttpUrl, ValidationError } from '../../common/validate.js';

/** A raw setting: its value (empty means unset) and the name to use in messages. */
export interface Setting {
  value?: string;
  name: string;
}

export interface CredentialSettings {
  apiUrl: Setting;
  apiToken: Setting;
  /** How the Worker is authenticated, "token" (default) or "oidc"; absent where only tokens are. */
  auth?: Setting;
  accountId: Setting;
  endpoint: Setting;
  accessKeyId: Setting;
  secretAccessKey: Setting;
}

export interface S3Connection {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface TokenAuth {
  kind: 'token';
  token: string;
}
/** `oidc`: the runner's ID token, fetched later by the action, stands in for the token. */
export type WorkerAuth = TokenAuth | { kind: 'oidc' };

export interface WorkerConnection<Auth extends WorkerAuth = WorkerAuth> {
  url: string;
  auth: Auth;
}

/** Each present when its settings were given. */
export interface Credentials<Auth extends WorkerAuth = WorkerAuth> {
  s3?: S3Connection;
  worker?: WorkerConnection<Auth>;
}

const ACCOUNT_ID_RE = /^[0-9a-f]{32}$/i;

const valueOf = (setting: Setting | undefined): string | undefined => setting?.value || undefined;

/** An http(s) URL without credentials (common/validate.ts checkHttpUrl), without its trailing
 *  slashes, so that paths joined to it have one. */
export function checkUrlSetting(value: string, name: string): string {
  return checkHttpUrl(value, name).replace(/\/+$/, '');
}

function resolveWorker(settings: CredentialSettings, url: string | undefined): WorkerConnection | undefined {
  const { apiUrl, apiToken, auth } = settings;
  const token = valueOf(apiToken);
  const kind = valueOf(auth) ?? 'token';
  if (auth && kind !== 'token' && kind !== 'oidc')
    throw new ValidationError(auth.name, 'must be "token" or "oidc"');
  if (auth && kind === 'oidc') {
    // Two credentials would leave it unclear which one the Worker's records name.
    if (token)
      throw new ValidationError(
        apiToken.name,
        `must be empty with ${auth.name}: oidc (the ID token replaces it)`,
      );
    if (!url) throw new ValidationError(apiUrl.name, `is required with ${auth.name}: oidc`);
    return { url, auth: { kind: 'oidc' } };
  }
  if (url && !token) {
    const orOidc = auth ? ` (or use ${auth.name}: oidc)` : '';
    throw new ValidationError(apiToken.name, `is required with ${apiUrl.name}${orOidc}`);
  }
  if (token && !url) throw new ValidationError(apiUrl.name, `is required with ${apiToken.name}`);
  return url && token ? { url, auth: { kind: 'token', token } } : undefined;
}

function resolveS3(settings: CredentialSettings, endpointUrl: string | undefined): S3Connection | undefined {
  const { accountId, endpoint, accessKeyId, secretAccessKey } = settings;
  const keyId = valueOf(accessKeyId);
  const secret = valueOf(secretAccessKey);
  if (!keyId && !secret) return undefined;
  if (!keyId) throw new ValidationError(accessKeyId.name, `is required with ${secretAccessKey.name}`);
  if (!secret) throw new ValidationError(secretAccessKey.name, `is required with ${accessKeyId.name}`);
  const account = valueOf(accountId);
  if (account && endpointUrl)
    throw new ValidationError(endpoint.name, `give either ${accountId.name} or ${endpoint.name}, not both`);
  if (endpointUrl) return { endpoint: endpointUrl, accessKeyId: keyId, secretAccessKey: secret };
  if (!account)
    throw new ValidationError(accountId.name, `is required with S3 keys (or give ${endpoint.name})`);
  if (!ACCOUNT_ID_RE.test(account))
    throw new ValidationError(accountId.name, 'must be a Cloudflare account id: 32 hexadecimal characters');
  return {
    endpoint: `https://${account.toLowerCase()}.r2.cloudflarestorage.com`,
    accessKeyId: keyId,
    secretAccessKey: secret,
  };
}

/** The S3 and Worker connections the settings describe, or a ValidationError naming the setting
 *  at fault. URLs are checked first: one with credentials in it stops here, before any other
 *  rule could be reported beside it. */
export function resolveCredentials(settings: CredentialSettings & { auth?: never }): Credentials<TokenAuth>;
export function resolveCredentials(settings: CredentialSettings): Credentials;
export function resolveCredentials(settings: CredentialSettings): Credentials {
  const check = (setting: Setting): string | undefined => {
    const value = valueOf(setting);
    return value === undefined ? undefined : checkUrlSetting(value, setting.name);
  };
  const apiUrl = check(settings.apiUrl);
  const endpoint = check(settings.endpoint);
  const worker = resolveWorker(settings, apiUrl);
  const s3 = resolveS3(settings, endpoint);
  return { ...(s3 && { s3 }), ...(worker && { worker }) };
}
