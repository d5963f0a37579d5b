// Multipart calls with an upload id the caller chose: another key's upload, an unknown id, or
// parts R2 refuses. Each is the caller's mistake, so 4xx with a clear message, never 500, and
// the other upload is left intact (issue 17, item 6).
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { callerR2Error } from '../../worker/src/r2-errors.js';
import { apiClient, aws, readJson, type Api } from './helpers.js';

let stack: LocalStack;
let api: Api;
const token = sharedStackToken();
const MiB = 1024 * 1024;
const victimKey = 'backups/my-repo/20250102-120000.tar.gz';
const attackerKey = 'backups/my-repo/20250102-130000.tar.gz';
const uploadPath = (key: string, query: string): string =>
  `/api/r2/buckets/my-bucket/upload?key=${encodeURIComponent(key)}${query}`;

beforeAll(async () => {
  stack = await sharedStack();
  api = apiClient(stack, token);
});

async function create(key: string): Promise<string> {
  const response = await api(uploadPath(key, '&action=mpu-create'), { method: 'POST' });
  expect(response.status).toBe(200);
  return (await readJson(response)).uploadId as string;
}

async function part(key: string, id: string, n: number, body: Uint8Array): Promise<string> {
  const query = `&action=mpu-uploadpart&uploadId=${encodeURIComponent(id)}&partNumber=${n}`;
  const response = await api(uploadPath(key, query), { method: 'PUT', body });
  expect(response.status).toBe(200);
  return (await readJson(response)).etag as string;
}

const complete = (key: string, id: string, parts: unknown): Promise<Response> =>
  api(uploadPath(key, `&action=mpu-complete&uploadId=${encodeURIComponent(id)}`), {
    method: 'POST',
    json: { parts },
  });

const abort = (key: string, id: string): Promise<Response> =>
  api(uploadPath(key, `&action=mpu-abort&uploadId=${encodeURIComponent(id)}`), { method: 'DELETE' });

async function expectNoSuchUpload(response: Response): Promise<void> {
  expect(response.status).toBe(404);
  expect(await readJson(response)).toMatchObject({
    success: false,
    field: 'uploadId',
    error: expect.stringMatching(
      /^Multipart upload not found for backups\/my-repo\/20250102-130000\.tar\.gz/,
    ),
  });
}

test("complete and abort with another key's upload id are 404; that upload still completes", async () => {
  const victimId = await create(victimKey);
  const etag = await part(victimKey, victimId, 1, Buffer.alloc(MiB, 1));
  await create(attackerKey);

  await expectNoSuchUpload(await complete(attackerKey, victimId, [{ partNumber: 1, etag }]));
  await expectNoSuchUpload(await abort(attackerKey, victimId));

  const done = await complete(victimKey, victimId, [{ partNumber: 1, etag }]);
  expect(done.status).toBe(201);
  expect(await aws(stack, 's3', 'ls', 's3://my-bucket/backups/my-repo/')).not.toContain('20250102-130000');
});

test('complete and abort with an unknown upload id are 404', async () => {
  await expectNoSuchUpload(await complete(attackerKey, 'no-such-upload', [{ partNumber: 1, etag: 'e' }]));
  await expectNoSuchUpload(await abort(attackerKey, 'no-such-upload'));
});

test.each([
  ['parts under 5 MiB', [MiB, MiB]],
  ['parts of unequal size', [6 * MiB, 5 * MiB + 1, MiB]],
])('%s: 400 naming parts, with R2 reason', async (_what, sizes) => {
  const key = `backups/my-repo/20250102-14000${sizes.length}.tar`;
  const id = await create(key);
  const parts = [];
  for (const [i, size] of sizes.entries()) {
    parts.push({ partNumber: i + 1, etag: await part(key, id, i + 1, Buffer.alloc(size, i)) });
  }
  const response = await complete(key, id, parts);
  expect(response.status).toBe(400);
  expect(await readJson(response)).toMatchObject({
    field: 'parts',
    error: expect.stringMatching(/^Multipart upload refused by R2: \S/),
  });
  expect((await abort(key, id)).status).toBe(200);
});

// No route lets a caller cause these outside uploads today; http.ts maps them wherever R2 is
// called, so a new route cannot turn one into a 500. Messages as workerd's binding words them.
describe('R2 errors of client origin anywhere', () => {
  test.each([
    ['put: Your metadata headers exceed the maximum allowed metadata size. (10012)', 400, 10012],
    ['get: The requested range is not satisfiable (10039)', 416, 10039],
    ['put: At least one of the pre-conditions you specified did not hold. (10031)', 412, 10031],
    ['uploadPart: Your proposed upload exceeds the maximum allowed object size. (100100)', 413, 100100],
  ])('%s -> %i', (message, status, code) => {
    expect(callerR2Error(new Error(message))).toEqual({
      status,
      code,
      message: `Refused by R2: ${message.replace(/^\w+: /, '').replace(/ \(\d+\)$/, '')}`,
    });
  });

  test.each([
    'completeMultipartUpload: We encountered an internal error. Please try again. (10001)',
    'fetch failed (10024)',
    'The specified multipart upload does not exist. (10024)',
  ])('%s stays a 500', (message) => {
    expect(callerR2Error(new Error(message))).toBeUndefined();
  });
});
