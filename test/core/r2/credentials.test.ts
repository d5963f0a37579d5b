// core/r2/credentials.ts: one resolver for the action's inputs and the CLI's flags and
// variables. One test per rule; the names in messages are whatever the caller passes.
import {
  checkUrlSetting,
  resolveCredentials,
  type CredentialSettings,
} from '../../../core/r2/credentials.js';

const ACCOUNT = '0123456789abcdef0123456789ABCDEF';
const KEYS = { accessKeyId: 'key-id', secretAccessKey: 'key-secret' };

/** Settings named as the CLI names them, with the given values. */
function settings(values: Partial<Record<keyof CredentialSettings, string>>): CredentialSettings {
  const named = (key: keyof CredentialSettings, name: string) => ({ value: values[key], name });
  return {
    apiUrl: named('apiUrl', '--api-url / R2_BACKUP_API_URL'),
    apiToken: named('apiToken', '--api-token / R2_BACKUP_API_TOKEN'),
    accountId: named('accountId', '--r2-account-id / R2_ACCOUNT_ID'),
    endpoint: named('endpoint', '--r2-endpoint / R2_ENDPOINT'),
    accessKeyId: named('accessKeyId', '--r2-access-key-id / R2_ACCESS_KEY_ID'),
    secretAccessKey: named('secretAccessKey', '--r2-secret-access-key / R2_SECRET_ACCESS_KEY'),
  };
}

/** The action's shape: the `auth` input makes OIDC an alternative to the token. */
const withAuth = (
  values: Partial<Record<keyof CredentialSettings, string>>,
  auth: string,
): CredentialSettings => ({ ...settings(values), auth: { value: auth, name: 'auth' } });

const messageOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('no error was thrown');
};

test('nothing given resolves to no connection', () => {
  expect(resolveCredentials(settings({}))).toEqual({});
  // Empty values are unset, as an action input left blank is.
  expect(resolveCredentials(settings({ apiUrl: '', apiToken: '', accessKeyId: '' }))).toEqual({});
});

describe('URLs', () => {
  const SECRET = 'pa55-in-url';

  test('are checked first: credentials in one are refused, naming it, before any other rule', () => {
    // The token is missing as well; the URL is what the error is about.
    const message = messageOf(() =>
      resolveCredentials(settings({ apiUrl: `https://user:${SECRET}@worker.example` })),
    );
    expect(message).toMatch(/^Invalid --api-url \/ R2_BACKUP_API_URL: must not contain credentials/);
    expect(message).not.toContain(SECRET);
    // The endpoint's URL comes before the key pair's rules.
    const endpoint = messageOf(() =>
      resolveCredentials(settings({ endpoint: `http://${SECRET}@127.0.0.1:9000`, accessKeyId: 'k' })),
    );
    expect(endpoint).toMatch(/^Invalid --r2-endpoint \/ R2_ENDPOINT: must not contain credentials/);
    expect(endpoint).not.toContain(SECRET);
  });

  test('must be http(s)', () => {
    expect(() => resolveCredentials(settings({ ...KEYS, endpoint: 'ftp://host' }))).toThrow(
      /^Invalid --r2-endpoint \/ R2_ENDPOINT: must be an http\(s\) URL/,
    );
  });

  test('lose their trailing slashes', () => {
    expect(checkUrlSetting('https://host/base//', 'api-url')).toBe('https://host/base');
    const resolved = resolveCredentials(
      settings({
        ...KEYS,
        apiUrl: 'https://worker.example/',
        apiToken: 't',
        endpoint: 'http://127.0.0.1:9000/',
      }),
    );
    expect(resolved.worker?.url).toBe('https://worker.example');
    expect(resolved.s3?.endpoint).toBe('http://127.0.0.1:9000');
  });
});

describe('the Worker', () => {
  test('api-url and api-token give a token connection', () => {
    expect(resolveCredentials(settings({ apiUrl: 'https://w.example', apiToken: 'tok' }))).toEqual({
      worker: { url: 'https://w.example', auth: { kind: 'token', token: 'tok' } },
    });
  });

  test('api-url needs a token', () => {
    expect(() => resolveCredentials(settings({ apiUrl: 'https://w.example' }))).toThrow(
      'Invalid --api-token / R2_BACKUP_API_TOKEN: is required with --api-url / R2_BACKUP_API_URL',
    );
    // Where OIDC is available (the action), the message offers it.
    expect(() => resolveCredentials(withAuth({ apiUrl: 'https://w.example' }, ''))).toThrow(
      /is required with --api-url \/ R2_BACKUP_API_URL \(or use auth: oidc\)$/,
    );
  });

  test('a token needs api-url', () => {
    expect(() => resolveCredentials(settings({ apiToken: 'tok' }))).toThrow(
      'Invalid --api-url / R2_BACKUP_API_URL: is required with --api-token / R2_BACKUP_API_TOKEN',
    );
  });

  test('auth: oidc needs api-url and no token, and resolves to an OIDC connection', () => {
    expect(resolveCredentials(withAuth({ apiUrl: 'https://w.example/' }, 'oidc'))).toEqual({
      worker: { url: 'https://w.example', auth: { kind: 'oidc' } },
    });
    expect(() => resolveCredentials(withAuth({}, 'oidc'))).toThrow(
      'Invalid --api-url / R2_BACKUP_API_URL: is required with auth: oidc',
    );
    expect(() =>
      resolveCredentials(withAuth({ apiUrl: 'https://w.example', apiToken: 't' }, 'oidc')),
    ).toThrow(/^Invalid --api-token \/ R2_BACKUP_API_TOKEN: must be empty with auth: oidc/);
  });

  test('auth is "token" or "oidc"', () => {
    expect(
      resolveCredentials(withAuth({ apiUrl: 'https://w.example', apiToken: 't' }, 'token')).worker?.auth,
    ).toEqual({ kind: 'token', token: 't' });
    expect(() => resolveCredentials(withAuth({}, 'saml'))).toThrow('Invalid auth: must be "token" or "oidc"');
  });
});

describe('R2 over S3', () => {
  test('keys come in pairs', () => {
    expect(() => resolveCredentials(settings({ accessKeyId: 'k', endpoint: 'http://s3.test' }))).toThrow(
      'Invalid --r2-secret-access-key / R2_SECRET_ACCESS_KEY: is required with --r2-access-key-id / R2_ACCESS_KEY_ID',
    );
    expect(() => resolveCredentials(settings({ secretAccessKey: 's', endpoint: 'http://s3.test' }))).toThrow(
      'Invalid --r2-access-key-id / R2_ACCESS_KEY_ID: is required with --r2-secret-access-key / R2_SECRET_ACCESS_KEY',
    );
  });

  test('an endpoint is used as given', () => {
    expect(resolveCredentials(settings({ ...KEYS, endpoint: 'http://127.0.0.1:9000' }))).toEqual({
      s3: { endpoint: 'http://127.0.0.1:9000', ...KEYS },
    });
  });

  test('the endpoint is built from the account id, lower-cased', () => {
    expect(resolveCredentials(settings({ ...KEYS, accountId: ACCOUNT })).s3).toEqual({
      endpoint: `https://${ACCOUNT.toLowerCase()}.r2.cloudflarestorage.com`,
      ...KEYS,
    });
  });

  test('the account id is 32 hexadecimal characters', () => {
    for (const bad of [ACCOUNT.slice(1), `${ACCOUNT}0`, `${ACCOUNT.slice(1)}g`, 'my-account']) {
      expect(() => resolveCredentials(settings({ ...KEYS, accountId: bad }))).toThrow(
        'Invalid --r2-account-id / R2_ACCOUNT_ID: must be a Cloudflare account id: 32 hexadecimal characters',
      );
    }
  });

  test('keys need an account id or an endpoint', () => {
    expect(() => resolveCredentials(settings(KEYS))).toThrow(
      'Invalid --r2-account-id / R2_ACCOUNT_ID: is required with S3 keys (or give --r2-endpoint / R2_ENDPOINT)',
    );
  });

  test('an account id and an endpoint are not both given', () => {
    expect(() =>
      resolveCredentials(settings({ ...KEYS, accountId: ACCOUNT, endpoint: 'http://127.0.0.1:9000' })),
    ).toThrow(
      'Invalid --r2-endpoint / R2_ENDPOINT: give either --r2-account-id / R2_ACCOUNT_ID or --r2-endpoint / R2_ENDPOINT, not both',
    );
  });

  test('an account id or endpoint without keys is no S3 connection', () => {
    expect(resolveCredentials(settings({ accountId: ACCOUNT, endpoint: 'http://127.0.0.1:9000' }))).toEqual(
      {},
    );
  });
});

test('the Worker and S3 resolve side by side', () => {
  expect(
    resolveCredentials(settings({ ...KEYS, accountId: ACCOUNT, apiUrl: 'https://w.example', apiToken: 't' })),
  ).toEqual({
    worker: { url: 'https://w.example', auth: { kind: 'token', token: 't' } },
    s3: { endpoint: `https://${ACCOUNT.toLowerCase()}.r2.cloudflarestorage.com`, ...KEYS },
  });
});
