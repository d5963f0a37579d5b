// cli/connection.ts: the CLI's flags and environment variables mapped onto the shared credential
// resolver (core/r2/credentials.ts). The action's names (--r2-endpoint, --r2-account-id, ...)
// and the older ones (--endpoint, --account-id, ...) set the same thing; messages name all.
import { connect } from '../../cli/connection.js';

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const KEYS = { 'r2-access-key-id': 'key-id', 'r2-secret-access-key': 'key-secret' };
const saved = { ...process.env };

beforeEach(() => {
  // Only what each test gives: nothing of the surrounding shell's R2_* settings.
  for (const name of Object.keys(process.env)) if (name.startsWith('R2_')) delete process.env[name];
});
afterAll(() => {
  process.env = saved;
});

/** The S3 client's endpoint, as the SDK will call it. */
async function s3Endpoint(values: Record<string, string>): Promise<string> {
  const s3 = connect(values).s3;
  if (!s3) throw new Error('no S3 connection');
  const endpoint = await s3.config.endpoint!();
  return `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}`;
}

test.each([
  ['--r2-endpoint', { ...KEYS, 'r2-endpoint': 'http://127.0.0.1:9000/' }],
  ['--endpoint', { ...KEYS, endpoint: 'http://127.0.0.1:9000' }],
])('%s sets the S3 endpoint', async (_flag, values) => {
  expect(await s3Endpoint(values)).toBe('http://127.0.0.1:9000');
});

test.each([
  ['--r2-account-id', { ...KEYS, 'r2-account-id': ACCOUNT }],
  ['--account-id', { 'access-key-id': 'key-id', 'secret-access-key': 'key-secret', 'account-id': ACCOUNT }],
])('%s builds the R2 endpoint', async (_flag, values) => {
  expect(await s3Endpoint(values)).toBe(`https://${ACCOUNT}.r2.cloudflarestorage.com`);
});

test('the environment is read when no flag is given; a flag wins over it', async () => {
  Object.assign(process.env, {
    R2_ENDPOINT: 'http://127.0.0.1:9001',
    R2_ACCESS_KEY_ID: 'k',
    R2_SECRET_ACCESS_KEY: 's',
  });
  expect(await s3Endpoint({})).toBe('http://127.0.0.1:9001');
  expect(await s3Endpoint({ 'r2-endpoint': 'http://127.0.0.1:9002' })).toBe('http://127.0.0.1:9002');
});

test('a setting given under both its flags is refused', () => {
  expect(() => connect({ ...KEYS, 'r2-endpoint': 'http://a.test', endpoint: 'http://b.test' })).toThrow(
    '--r2-endpoint and --endpoint are one setting: give one',
  );
});

test('errors name every flag and the variable of the setting at fault', () => {
  expect(() => connect({ 'r2-endpoint': 'http://user:pw@127.0.0.1:9000', ...KEYS })).toThrow(
    /^Invalid --r2-endpoint \/ --endpoint \/ R2_ENDPOINT: must not contain credentials/,
  );
  expect(() => connect({ 'access-key-id': 'k', 'r2-endpoint': 'http://127.0.0.1:9000' })).toThrow(
    'Invalid --r2-secret-access-key / --secret-access-key / R2_SECRET_ACCESS_KEY: is required with --r2-access-key-id / --access-key-id / R2_ACCESS_KEY_ID',
  );
  expect(() => connect({ 'api-url': 'https://w.example' })).toThrow(
    'Invalid --api-token / R2_BACKUP_API_TOKEN: is required with --api-url / R2_BACKUP_API_URL',
  );
});

test('the Worker connection takes the URL without its trailing slash', () => {
  const { worker, s3 } = connect({ 'api-url': 'https://w.example/', 'api-token': 'tok' });
  expect(s3).toBeUndefined();
  expect(worker?.baseUrl).toBe('https://w.example');
});
