// Archives through the Worker: a 20 MiB object up and down in one request and in parts,
// byte-identical, checked by awscli at its key; never overwritten; keys confined.
import { createHash, randomBytes } from 'node:crypto';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { apiClient, aws, readJson, type Api } from './helpers.js';

let stack: LocalStack;
let api: Api;
const token = sharedStackToken();
const MiB = 1024 * 1024;
const data = randomBytes(20 * MiB);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const uploadPath = (key: string, query = ''): string =>
  `/api/r2/buckets/my-bucket/upload?key=${encodeURIComponent(key)}${query}`;
const downloadPath = (key: string): string =>
  `/api/r2/buckets/my-bucket/download?key=${encodeURIComponent(key)}`;

beforeAll(async () => {
  stack = await sharedStack();
  api = apiClient(stack, token);
});

async function downloaded(key: string): Promise<{ response: Response; bytes: Buffer }> {
  const response = await api(downloadPath(key));
  return { response, bytes: Buffer.from(await response.arrayBuffer()) };
}

async function awsSize(key: string): Promise<number> {
  return JSON.parse(await aws(stack, 's3api', 'head-object', '--bucket', 'my-bucket', '--key', key))
    .ContentLength;
}

test('20 MiB in one PUT, downloaded byte-identical, never overwritten', async () => {
  const key = 'backups/my-repo/my-repo-20250101-120000.tar.gz';
  const response = await api(uploadPath(key), { method: 'PUT', body: data });
  expect(response.status).toBe(201);
  const body = await readJson(response);
  expect(body).toMatchObject({ success: true, key, size: data.length });
  expect(typeof body.etag).toBe('string');
  expect(await awsSize(key)).toBe(data.length);

  const { response: got, bytes } = await downloaded(key);
  expect(got.status).toBe(200);
  expect(got.headers.get('content-length')).toBe(String(data.length));
  expect(got.headers.get('etag')).toContain(body.etag);
  expect(sha256(bytes)).toBe(sha256(data));

  const again = await api(uploadPath(key), { method: 'PUT', body: 'other' });
  expect(again.status).toBe(409);
  expect(await readJson(again)).toMatchObject({
    success: false,
    error: expect.stringContaining('never overwritten'),
  });
  expect(await awsSize(key)).toBe(data.length);
});

async function multipart(
  key: string,
  partSize: number,
): Promise<{ uploadId: string; parts: { partNumber: number; etag: string }[] }> {
  const created = await api(uploadPath(key, '&action=mpu-create'), { method: 'POST' });
  expect(created.status).toBe(200);
  const { uploadId } = await readJson(created);
  expect(typeof uploadId).toBe('string');
  const parts = [];
  for (let offset = 0, n = 1; offset < data.length; offset += partSize, n++) {
    const response = await api(
      uploadPath(key, `&action=mpu-uploadpart&uploadId=${encodeURIComponent(uploadId)}&partNumber=${n}`),
      {
        method: 'PUT',
        body: data.subarray(offset, offset + partSize),
      },
    );
    expect(response.status).toBe(200);
    const part = await readJson(response);
    expect(part).toMatchObject({ success: true, partNumber: n });
    parts.push({ partNumber: n, etag: part.etag as string });
  }
  return { uploadId, parts };
}

const complete = (key: string, uploadId: string, parts: unknown): Promise<Response> =>
  api(uploadPath(key, `&action=mpu-complete&uploadId=${encodeURIComponent(uploadId)}`), {
    method: 'POST',
    json: { parts },
  });

test('20 MiB in 5 MiB parts, downloaded byte-identical', async () => {
  const key = 'backups/my-repo/20250101-130000.tar.zst';
  const { uploadId, parts } = await multipart(key, 5 * MiB);
  expect(parts).toHaveLength(4);
  const done = await complete(key, uploadId, parts);
  expect(done.status).toBe(201);
  expect(await readJson(done)).toMatchObject({ success: true, key, size: data.length });
  expect(await awsSize(key)).toBe(data.length);
  const { bytes } = await downloaded(key);
  expect(sha256(bytes)).toBe(sha256(data));
});

test('multipart never overwrites: create and complete refuse an existing key', async () => {
  const existing = 'backups/my-repo/my-repo-20250101-120000.tar.gz';
  expect((await api(uploadPath(existing, '&action=mpu-create'), { method: 'POST' })).status).toBe(409);

  // The key appears while the upload is in flight: complete refuses and aborts it.
  const key = 'backups/my-repo/20250101-140000.tar';
  const { uploadId, parts } = await multipart(key, 10 * MiB);
  expect((await api(uploadPath(key), { method: 'PUT', body: 'first writer' })).status).toBe(201);
  const done = await complete(key, uploadId, parts);
  expect(done.status).toBe(409);
  expect(await awsSize(key)).toBe('first writer'.length);
  // ...and the refused upload was aborted: no parts are left behind.
  const late = await api(
    uploadPath(key, `&action=mpu-uploadpart&uploadId=${encodeURIComponent(uploadId)}&partNumber=1`),
    { method: 'PUT', body: 'x' },
  );
  expect(late.status).toBe(404);
});

test('abort ends an upload; parts and completes after it are 404; bad parts are 400', async () => {
  const key = 'backups/my-repo/20250101-150000.tar.gz';
  const created = await readJson(await api(uploadPath(key, '&action=mpu-create'), { method: 'POST' }));
  const id = encodeURIComponent(created.uploadId);
  const part = await api(uploadPath(key, `&action=mpu-uploadpart&uploadId=${id}&partNumber=1`), {
    method: 'PUT',
    body: data.subarray(0, 5 * MiB),
  });
  const { etag } = await readJson(part);
  const badEtag = await complete(key, created.uploadId, [{ partNumber: 1, etag: `${etag}x` }]);
  expect(badEtag.status).toBe(400);
  for (const parts of [[], [{ partNumber: 0, etag }], [{ partNumber: 1 }], 'all']) {
    const response = await complete(key, created.uploadId, parts);
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({ field: 'parts' });
  }
  const aborted = await api(uploadPath(key, `&action=mpu-abort&uploadId=${id}`), { method: 'DELETE' });
  expect(aborted.status).toBe(200);
  expect(await readJson(aborted)).toEqual({ success: true });
  const late = await api(uploadPath(key, `&action=mpu-uploadpart&uploadId=${id}&partNumber=2`), {
    method: 'PUT',
    body: 'x',
  });
  expect(late.status).toBe(404);
  expect((await complete(key, created.uploadId, [{ partNumber: 1, etag }])).status).toBe(404);
  expect((await api(downloadPath(key))).status).toBe(404);
});

describe('keys, actions and bodies', () => {
  test.each([
    ['missing', undefined],
    ['outside backups/', 'repos/my-repo/main/x'],
    ['a metadata record', 'backups/my-repo/metadata/20250101-000000.tar.gz.json'],
    ['a notification', 'backups/my-repo/notifications/20250101-000000.json'],
    ['a bad tenant', 'backups/.x/20250101-000000.tar.gz'],
    ['..', 'backups/my-repo/../other/20250101-000000.tar.gz'],
    ['a traversal tenant', 'backups/../20250101-000000.tar.gz'],
    ['an empty part', 'backups/my-repo//20250101-000000.tar.gz'],
    ['a non-archive name', 'backups/my-repo/notes.txt'],
    ['another tenant prefix', 'backups/my-repo/other-20250101-000000.tar.gz'],
  ])('upload to %s is 400', async (_what, key) => {
    const path = key === undefined ? '/api/r2/buckets/my-bucket/upload' : uploadPath(key);
    const response = await api(path, { method: 'PUT', body: 'x' });
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({ success: false, field: 'key' });
  });

  test('downloads read any object under backups/{tenant}/, nothing else', async () => {
    await api('/api/github/backup', {
      method: 'POST',
      json: {
        tenant: 'my-repo',
        bucket: 'my-bucket',
        repo: 'owner/repo',
        branch: 'main',
        commit: 'a'.repeat(40),
        backup_file: '20250101-160000.tar.gz',
        action: 'upload',
      },
    });
    const record = await api(downloadPath('backups/my-repo/metadata/20250101-160000.tar.gz.json'));
    expect(record.status).toBe(200);
    expect((await readJson(record)).backup_file).toBe('20250101-160000.tar.gz');
    expect((await api(downloadPath('backups/my-repo/20990101-000000.tar.gz'))).status).toBe(404);
    expect((await api(downloadPath('repos/my-repo/main/README.md'))).status).toBe(400);
    expect((await api(downloadPath('backups/my-repo/../x'))).status).toBe(400);
  });

  test('unknown bucket is 404, bad bucket name 400', async () => {
    const unknown = await api('/api/r2/buckets/not-bound-here/upload?key=backups%2Fa%2F20250101-000000.tar', {
      method: 'PUT',
      body: 'x',
    });
    expect(unknown.status).toBe(404);
    expect(await readJson(unknown)).toMatchObject({ error: 'Bucket not found' });
    expect((await api('/api/r2/buckets/Bad_Name/download?key=backups%2Fa%2Fx')).status).toBe(400);
  });

  test.each([
    ['PUT', '&action=mpu-create'],
    ['POST', ''],
    ['POST', '&action=mpu-uploadpart'],
    ['DELETE', ''],
    ['PUT', '&action=nope'],
  ])('%s with action %j is 400 naming action', async (method, query) => {
    const response = await api(uploadPath('backups/my-repo/20250101-170000.tar', query), {
      method,
      body: method === 'PUT' ? 'x' : undefined,
    });
    expect(response.status).toBe(400);
    expect(await readJson(response)).toMatchObject({ field: 'action' });
  });

  test('part numbers and upload ids are checked', async () => {
    const key = 'backups/my-repo/20250101-180000.tar';
    for (const query of [
      '&action=mpu-uploadpart&uploadId=u&partNumber=0',
      '&action=mpu-uploadpart&uploadId=u&partNumber=10001',
      '&action=mpu-uploadpart&uploadId=u',
    ]) {
      const response = await api(uploadPath(key, query), { method: 'PUT', body: 'x' });
      expect(response.status).toBe(400);
      expect(await readJson(response)).toMatchObject({ field: 'partNumber' });
    }
    const noId = await api(uploadPath(key, '&action=mpu-uploadpart&partNumber=1'), {
      method: 'PUT',
      body: 'x',
    });
    expect(await readJson(noId)).toMatchObject({ field: 'uploadId' });
  });

  test('empty body 400, no Content-Length 411, more than 100 MB 413', async () => {
    const key = 'backups/my-repo/20250101-190000.tar';
    const empty = await api(uploadPath(key), { method: 'PUT', body: '' });
    expect(empty.status).toBe(400);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(10));
        controller.close();
      },
    });
    const chunked = await api(uploadPath(key), {
      method: 'PUT',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(411);
    // One byte over the limit of a single request.
    const large = await api(uploadPath(key), { method: 'PUT', body: Buffer.alloc(100_000_001) });
    const status = large.status;
    expect(status).toBe(413);
    expect((await api(downloadPath(key))).status).toBe(404);
  });
});

test("mpu-create writes the archive's own metadata, of the known names only", async () => {
  const key = 'backups/my-repo/20250103-120000.tar.gz';
  const create = (metadata: unknown) =>
    api(uploadPath(key, '&action=mpu-create'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata }),
    });
  for (const bad of [
    { 'x-evil': 'v' },
    { 'r2-backup-commit': 'new\nline' },
    { 'r2-backup-branch': 'b'.repeat(600) },
    [],
  ]) {
    const refused = await create(bad);
    expect(refused.status).toBe(400);
    expect((await readJson(refused)).error).toMatch(/^Invalid metadata: must be an object of r2-backup-repo/);
  }
  const created = await readJson(
    await create({ 'r2-backup-commit': 'c'.repeat(40), 'r2-backup-branch': 'main' }),
  );
  const part = await readJson(
    await api(
      uploadPath(key, `&action=mpu-uploadpart&uploadId=${encodeURIComponent(created.uploadId)}&partNumber=1`),
      {
        method: 'PUT',
        body: data.subarray(0, 1000),
      },
    ),
  );
  const completed = await api(
    uploadPath(key, `&action=mpu-complete&uploadId=${encodeURIComponent(created.uploadId)}`),
    {
      method: 'POST',
      body: JSON.stringify({ parts: [{ partNumber: 1, etag: part.etag }] }),
    },
  );
  expect(completed.status).toBe(201);
  const head = JSON.parse(await aws(stack, 's3api', 'head-object', '--bucket', 'my-bucket', '--key', key));
  expect(head.Metadata).toEqual({ 'r2-backup-commit': 'c'.repeat(40), 'r2-backup-branch': 'main' });
});
