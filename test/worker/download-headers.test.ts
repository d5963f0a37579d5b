// Downloads never let a stored or planted Content-Type reach a browser: archives are served
// as their compression's type, anything else as bytes, always with nosniff and as an
// attachment (issue 17, item 8).
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { apiClient, aws, readJson, s3Client, seedBackup, type Api } from './helpers.js';

let stack: LocalStack;
let api: Api;
const token = sharedStackToken();
const html = '<html><script>alert(document.cookie)</script></html>';
const uploadPath = (key: string, query = ''): string =>
  `/api/r2/buckets/my-bucket/upload?key=${encodeURIComponent(key)}${query}`;
const downloadPath = (key: string): string =>
  `/api/r2/buckets/my-bucket/download?key=${encodeURIComponent(key)}`;

beforeAll(async () => {
  stack = await sharedStack();
  api = apiClient(stack, token);
});

async function storedType(key: string): Promise<string> {
  const head = await aws(stack, 's3api', 'head-object', '--bucket', 'my-bucket', '--key', key);
  return JSON.parse(head).ContentType;
}

async function expectServedAs(key: string, type: string, disposition: string): Promise<void> {
  const response = await api(downloadPath(key));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(type);
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('content-disposition')).toBe(disposition);
  expect(await response.text()).toContain(html);
}

test.each([
  ['20250103-120000.tar.gz', 'application/gzip'],
  ['20250103-120001.tar.zst', 'application/zstd'],
  ['my-repo-20250103-120002.tar', 'application/x-tar'],
  ['20250103-120003.bundle', 'application/octet-stream'],
])('%s uploaded as text/html: stored and served as %s', async (name, type) => {
  const key = `backups/my-repo/${name}`;
  const put = await api(uploadPath(key), {
    method: 'PUT',
    body: html,
    headers: { 'content-type': 'text/html' },
  });
  expect(put.status).toBe(201);
  expect(await storedType(key)).toBe(type);
  await expectServedAs(key, type, `attachment; filename="${name}"`);
});

test('a multipart upload as text/html: stored as the compression type', async () => {
  const key = 'backups/my-repo/20250103-130000.tar.zst';
  const created = await api(uploadPath(key, '&action=mpu-create'), {
    method: 'POST',
    headers: { 'content-type': 'text/html' },
  });
  const { uploadId } = await readJson(created);
  const id = encodeURIComponent(uploadId);
  const part = await api(uploadPath(key, `&action=mpu-uploadpart&uploadId=${id}&partNumber=1`), {
    method: 'PUT',
    body: html,
  });
  const { etag } = await readJson(part);
  const done = await api(uploadPath(key, `&action=mpu-complete&uploadId=${id}`), {
    method: 'POST',
    json: { parts: [{ partNumber: 1, etag }] },
  });
  expect(done.status).toBe(201);
  await expectServedAs(key, 'application/zstd', 'attachment; filename="20250103-130000.tar.zst"');
});

test.each([
  ['page.html', 'text/html', 'application/octet-stream', 'attachment; filename="page.html"'],
  [
    '20250103-140000.tar.gz',
    'text/html; charset=utf-8',
    'application/gzip',
    'attachment; filename="20250103-140000.tar.gz"',
  ],
  ['x.svg', 'image/svg+xml', 'application/octet-stream', 'attachment; filename="x.svg"'],
  ['a"b;c\u00e9.tar', 'text/html', 'application/x-tar', "attachment; filename*=UTF-8''a%22b%3Bc%C3%A9.tar"],
])('%s planted over S3 as %s: served as %s', async (name, planted, type, disposition) => {
  const key = `backups/my-repo/${name}`;
  await s3Client(stack).send(
    new PutObjectCommand({ Bucket: 'my-bucket', Key: key, Body: html, ContentType: planted }),
  );
  expect(await storedType(key)).toBe(planted);
  await expectServedAs(key, type, disposition);
});

test('a metadata record: JSON, still nosniff and an attachment', async () => {
  const posted = await api.post('/api/github/backup', seedBackup({ backup_file: '20250103-150000.tar.gz' }));
  expect(posted.status).toBe(201);
  const key = 'backups/my-repo/metadata/20250103-150000.tar.gz.json';
  const response = await api(downloadPath(key));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('content-disposition')).toBe(
    'attachment; filename="20250103-150000.tar.gz.json"',
  );
  expect((await readJson(response)).backup_file).toBe('20250103-150000.tar.gz');
});
