// S3StreamUpload against the local R2 endpoint: what it stores is read back by awscli, a
// body shorter than one part is one PutObject, a longer one a multipart upload of equal
// parts, and abort() leaves no upload behind.
import { UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createS3Client } from '../../core/r2/client.js';
import { S3StreamUpload } from '../../core/upload/s3-stream-upload.js';
import { MIB } from '../../core/upload/uploader.js';
import { LOCAL_S3_CREDENTIALS, type LocalStack } from '../../scripts/local-stack.js';
import { sharedStack } from '../helpers/shared-stack.js';
import { aws, listKeys } from './helpers.js';

let stack: LocalStack;
let client: S3Client;
let commands: string[];
beforeAll(async () => {
  stack = await sharedStack();
  client = createS3Client({ endpoint: stack.s3Endpoint, ...LOCAL_S3_CREDENTIALS, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(context.commandName!);
      return next(args);
    },
    { step: 'initialize' },
  );
});
beforeEach(() => (commands = []));

/** The object as awscli downloads it. */
async function download(key: string): Promise<Buffer> {
  const file = join(mkdtempSync(join(tmpdir(), 'stream-upload-')), 'object');
  await aws(stack, 's3', 'cp', `s3://my-bucket/${key}`, file, '--only-show-errors');
  return readFileSync(file);
}

/** `data` in chunks of uneven sizes, as a compressor hands them over. */
const chunked = (data: Buffer): Readable =>
  Readable.from(
    (function* () {
      for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7919) % 300_001)
        yield data.subarray(at, at + n);
    })(),
  );

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('a body longer than one part: a multipart upload of equal parts, stored byte for byte', async () => {
  const data = randomBytes(17 * MIB + 12345);
  const key = 'stream/multipart.bin';
  const etag = await new S3StreamUpload(client, { Bucket: 'my-bucket', Key: key }).send(
    chunked(data),
    5 * MIB,
    2,
  );
  expect(etag).toMatch(/-4"?$/); // a multipart ETag names its part count
  expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(4);
  expect(commands).toContain('CompleteMultipartUploadCommand');
  expect(commands).not.toContain('PutObjectCommand');
  expect(sha256(await download(key))).toBe(sha256(data));
});

test('a body shorter than one part: one PutObject with its content type', async () => {
  const data = randomBytes(3 * MIB);
  const key = 'stream/single.bin';
  await new S3StreamUpload(client, { Bucket: 'my-bucket', Key: key, ContentType: 'application/zstd' }).send(
    chunked(data),
    5 * MIB,
    2,
  );
  expect(commands).toEqual(['PutObjectCommand']);
  expect(sha256(await download(key))).toBe(sha256(data));
  const head = JSON.parse(await aws(stack, 's3api', 'head-object', '--bucket', 'my-bucket', '--key', key));
  expect(head.ContentType).toBe('application/zstd');
});

test('a body of exactly one part is stored whole, and so is an empty one', async () => {
  const data = randomBytes(5 * MIB);
  await new S3StreamUpload(client, { Bucket: 'my-bucket', Key: 'stream/exact.bin' }).send(
    chunked(data),
    5 * MIB,
    2,
  );
  expect(sha256(await download('stream/exact.bin'))).toBe(sha256(data));
  await new S3StreamUpload(client, { Bucket: 'my-bucket', Key: 'stream/empty.bin' }).send(
    Readable.from([]),
    5 * MIB,
    2,
  );
  expect((await download('stream/empty.bin')).length).toBe(0);
});

test('abort() mid-upload cancels the parts and the multipart upload; nothing is stored', async () => {
  const key = 'stream/aborted.bin';
  const upload = new S3StreamUpload(client, { Bucket: 'my-bucket', Key: key });
  // An endless body: only abort() ends this upload, called once the first part is stored.
  const body = new Readable({ read: () => void body.push(randomBytes(MIB)) });
  const ids: string[] = [];
  let aborting: Promise<void> | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const id = (result.output as { UploadId?: string }).UploadId;
      if (id) ids.push(id);
      if (context.commandName === 'UploadPartCommand') aborting ??= upload.abort();
      return result;
    },
    { step: 'initialize', name: 'abort-after-first-part' },
  );
  try {
    await expect(upload.send(body, 5 * MIB, 2)).rejects.toThrow();
    await aborting;
  } finally {
    client.middlewareStack.remove('abort-after-first-part');
  }
  expect(body.destroyed).toBe(true);
  expect(ids).toHaveLength(1);
  await expect(
    client.send(
      new UploadPartCommand({ Bucket: 'my-bucket', Key: key, UploadId: ids[0], PartNumber: 9, Body: 'x' }),
    ),
  ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  expect(await listKeys(stack, 'my-bucket', key)).toEqual([]);
});

test("metadata known before the upload is the object's on both paths; a single PutObject adds the SHA-256 and size", async () => {
  const head = async (key: string) =>
    JSON.parse(await aws(stack, 's3api', 'head-object', '--bucket', 'my-bucket', '--key', key)) as {
      ETag: string;
      Metadata: Record<string, string>;
    };
  const facts = { 'r2-backup-commit': 'c'.repeat(40), 'r2-backup-branch': 'main' };
  const large = randomBytes(6 * MIB);
  const small = randomBytes(1000);
  for (const [key, data] of [
    ['stream/facts-multipart.bin', large],
    ['stream/facts-single.bin', small],
  ] as const) {
    await new S3StreamUpload(client, { Bucket: 'my-bucket', Key: key, Metadata: facts }).send(
      chunked(data),
      5 * MIB,
      2,
      () => ({ sha256: sha256(data), size: data.length }),
    );
  }
  const multipart = await head('stream/facts-multipart.bin');
  expect(multipart.Metadata).toMatchObject(facts);
  expect(multipart.Metadata['r2-backup-sha256']).toBeUndefined();
  expect(multipart.ETag).toMatch(/-2"$/); // stored as uploaded: no copy rewrote it
  expect((await head('stream/facts-single.bin')).Metadata).toMatchObject({
    ...facts,
    'r2-backup-sha256': sha256(small),
    'r2-backup-size': String(small.length),
  });
}, 60_000);
