// An archive stream that fails half way through its upload: both upload paths abort the
// multipart upload (its id no longer takes parts) and leave no object at the key.
import { UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createS3Client } from '../../core/r2/client.js';
import { S3Uploader } from '../../core/upload/s3-uploader.js';
import { WorkerUploader } from '../../core/upload/worker-uploader.js';
import { MIB } from '../../core/upload/uploader.js';
import { WorkerClient } from '../../core/worker-api/client.js';
import { LOCAL_S3_CREDENTIALS, type LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { listKeys } from './helpers.js';

const TOKEN = sharedStackToken();
let stack: LocalStack;
beforeAll(async () => {
  stack = await sharedStack();
});

/** 12 MiB of data, then an error: as when a file cannot be read mid-archive. */
function failingStream(): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= 12 * MIB) this.destroy(new Error('disk on fire'));
      else {
        sent += MIB;
        this.push(randomBytes(MIB));
      }
    },
  });
}

/** Records the upload ids the S3 client is given. */
function recordUploadIds(client: S3Client): string[] {
  const ids: string[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const id = (result.output as { UploadId?: string }).UploadId;
      if (id) ids.push(id);
      return result;
    },
    { step: 'initialize' },
  );
  return ids;
}

test('S3: a failing stream aborts the multipart upload and removes the claim', async () => {
  const client = createS3Client({ endpoint: stack.s3Endpoint, ...LOCAL_S3_CREDENTIALS, maxAttempts: 1 });
  const ids = recordUploadIds(client);
  const uploader = new S3Uploader(client, 'my-bucket', stack.s3Endpoint, 'application/gzip');
  const key = 'backups/abort-s3/20250101-120000.tar.gz';
  const pending = (await uploader.begin(key))!;
  expect(await listKeys(stack, 'my-bucket', key)).toEqual([key]); // the claim
  await expect(pending.send(failingStream(), 5 * MIB)).rejects.toThrow('disk on fire');
  await pending.abort();
  expect(await listKeys(stack, 'my-bucket', 'backups/abort-s3/')).toEqual([]);
  expect(ids).toHaveLength(1);
  await expect(
    client.send(
      new UploadPartCommand({ Bucket: 'my-bucket', Key: key, UploadId: ids[0], PartNumber: 9, Body: 'x' }),
    ),
  ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  // The name is free again.
  expect(await uploader.begin(key)).toBeDefined();
});

test('Worker route: a failing stream aborts the multipart upload', async () => {
  // The Worker is reached through a proxy, whose log of requests shows the upload's id.
  const proxy = await startFaultProxy(Number(new URL(stack.url).port));
  try {
    const worker = new WorkerClient(proxy.url, TOKEN);
    const uploader = new WorkerUploader(worker, 'my-bucket');
    const key = 'backups/abort-worker/20250101-120000.tar.gz';
    const pending = (await uploader.begin(key))!;
    await expect(pending.send(failingStream(), 5 * MIB)).rejects.toThrow('disk on fire');
    await pending.abort();
    expect(await listKeys(stack, 'my-bucket', 'backups/abort-worker/')).toEqual([]);
    const queries = proxy.seen.map((r) => new URL(r.url, proxy.url).searchParams);
    // Every request for the key after mpu-create names the one upload.
    const ids = new Set(queries.filter((q) => q.get('key') === key).flatMap((q) => q.get('uploadId') ?? []));
    expect(ids.size).toBe(1);
    const [uploadId] = ids;
    expect(queries.filter((q) => q.get('action') === 'mpu-abort').map((q) => q.get('uploadId'))).toEqual([
      uploadId,
    ]);
    const part = await fetch(
      worker.url('/api/r2/buckets/my-bucket/upload', {
        key,
        action: 'mpu-uploadpart',
        uploadId,
        partNumber: '9',
      }),
      { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body: 'x' },
    );
    expect(part.status).toBe(404);
  } finally {
    await proxy.close();
  }
});

test('a taken key is never claimed again', async () => {
  const client = createS3Client({ endpoint: stack.s3Endpoint, ...LOCAL_S3_CREDENTIALS });
  const s3 = new S3Uploader(client, 'my-bucket', stack.s3Endpoint, 'application/gzip');
  const key = 'backups/taken/20250101-120000.tar.gz';
  const first = (await s3.begin(key))!;
  await first.send(Readable.from([Buffer.from('archive bytes')]), 5 * MIB);
  expect(await s3.begin(key)).toBeUndefined();
  expect(
    await new WorkerUploader(new WorkerClient(stack.url, TOKEN), 'my-bucket').begin(key),
  ).toBeUndefined();
  await first.abort(); // after a stored archive: a no-op, the archive stays
  expect(await listKeys(stack, 'my-bucket', key)).toEqual([key]);
});
