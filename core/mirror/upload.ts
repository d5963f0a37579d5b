// One file to one object. Small files go in a single PutObject from memory (so the SDK can
// retry it); large ones in equal parts (s3-stream-upload.ts), hashed as they stream.
// The SHA-256 and size recorded are those of the bytes sent, even if the file changed since
// it was scanned.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createHashCounter } from '../streams/hash.js';
import { S3StreamUpload } from '../upload/s3-stream-upload.js';
import { choosePartSize } from '../upload/uploader.js';
import { contentTypeOf } from './content-type.js';
import type { LocalFile } from './local-tree.js';
import type { ManifestEntry } from './manifest.js';
import { unquote } from './remote-listing.js';

export const MULTIPART_FROM = 16 * 1024 * 1024;

export async function uploadFile(
  s3: S3Client,
  bucket: string,
  key: string,
  file: LocalFile,
): Promise<Required<ManifestEntry>> {
  const ContentType = contentTypeOf(file.path);
  if (file.size < MULTIPART_FROM) {
    const body = await readFile(file.absolute);
    const response = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType, ContentLength: body.length }),
    );
    return {
      size: body.length,
      etag: unquote(response.ETag),
      sha256: createHash('sha256').update(body).digest('hex'),
    };
  }
  const hashing = createHashCounter();
  // pipeline passes a read error on to the body, which fails the upload.
  const body = pipeline(createReadStream(file.absolute), hashing.transform, () => {});
  // Equal parts, at most 9,000 of them (R2 takes 10,000), as for archives.
  const partSize = choosePartSize(file.size);
  const etag = await new S3StreamUpload(s3, { Bucket: bucket, Key: key, ContentType }).send(
    body,
    partSize,
    4,
  );
  return { etag: unquote(etag), ...hashing.digest() };
}
