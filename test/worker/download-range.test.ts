// The download route resumes a cut download: `Range: bytes=N-` answers the rest of the object
// (206 with Content-Range), `If-Match` pins it to the version the download started on (412
// once it was replaced), a range past the end is 416; the download headers stay as they are.
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { apiClient, readJson, s3Client, type Api } from './helpers.js';
import type { LocalStack } from '../../scripts/local-stack.js';

let stack: LocalStack;
let api: Api;
const bytes = randomBytes(256 * 1024 + 17);
const key = 'backups/my-repo/20250104-120000.tar.gz';
const downloadPath = `/api/r2/buckets/my-bucket/download?key=${encodeURIComponent(key)}`;

beforeAll(async () => {
  stack = await sharedStack();
  api = apiClient(stack, sharedStackToken());
  await s3Client(stack).send(new PutObjectCommand({ Bucket: 'my-bucket', Key: key, Body: bytes }));
});

const body = async (response: Response): Promise<Buffer> => Buffer.from(await response.arrayBuffer());

test('a whole download says ranges are accepted and gives the ETag', async () => {
  const response = await api(downloadPath);
  expect(response.status).toBe(200);
  expect(response.headers.get('accept-ranges')).toBe('bytes');
  expect(response.headers.get('etag')).toMatch(/^"[^"]+"$/);
  expect(response.headers.get('content-length')).toBe(String(bytes.length));
  expect((await body(response)).equals(bytes)).toBe(true);
});

test('Range bytes=N- with If-Match: 206, the rest of the object, the download headers kept', async () => {
  const whole = await api(downloadPath);
  const etag = whole.headers.get('etag')!;
  await whole.arrayBuffer();
  const offset = 100_003;
  const response = await api(downloadPath, { headers: { range: `bytes=${offset}-`, 'if-match': etag } });
  expect(response.status).toBe(206);
  expect(response.headers.get('content-range')).toBe(`bytes ${offset}-${bytes.length - 1}/${bytes.length}`);
  expect(response.headers.get('content-length')).toBe(String(bytes.length - offset));
  expect(response.headers.get('etag')).toBe(etag);
  expect(response.headers.get('content-type')).toBe('application/gzip');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('content-disposition')).toBe('attachment; filename="20250104-120000.tar.gz"');
  expect((await body(response)).equals(bytes.subarray(offset))).toBe(true);
});

test('a range past the end: 416 with the size', async () => {
  const response = await api(downloadPath, { headers: { range: `bytes=${bytes.length}-` } });
  expect(response.status).toBe(416);
  expect(response.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  expect((await readJson(response)).error).toMatch(/starts past the end/);
});

test('another range form is ignored: the whole object', async () => {
  const response = await api(downloadPath, { headers: { range: 'bytes=0-9' } });
  expect(response.status).toBe(200);
  expect((await body(response)).equals(bytes)).toBe(true);
});

test('If-Match of a replaced object: 412, none of its bytes', async () => {
  const replacedKey = 'backups/my-repo/20250104-120001.tar.gz';
  const path = `/api/r2/buckets/my-bucket/download?key=${encodeURIComponent(replacedKey)}`;
  const s3 = s3Client(stack);
  await s3.send(new PutObjectCommand({ Bucket: 'my-bucket', Key: replacedKey, Body: bytes }));
  const first = await api(path);
  const etag = first.headers.get('etag')!;
  await first.arrayBuffer();
  await s3.send(new PutObjectCommand({ Bucket: 'my-bucket', Key: replacedKey, Body: randomBytes(1000) }));
  const resumed = await api(path, { headers: { range: 'bytes=10-', 'if-match': etag } });
  expect(resumed.status).toBe(412);
  const refusal = await readJson(resumed);
  expect(refusal.error).toMatch(/no longer the one asked for/);
  expect(refusal.etag).not.toBe(etag);
  // The same If-Match without a range is refused too; the current ETag is accepted.
  expect((await api(path, { headers: { 'if-match': etag } })).status).toBe(412);
  const current = await api(path, { headers: { 'if-match': refusal.etag, range: 'bytes=10-' } });
  expect(current.status).toBe(206);
  expect((await body(current)).length).toBe(990);
});
