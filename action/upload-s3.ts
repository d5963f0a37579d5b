// Uploads the archive stream to R2 over the S3 API (s3-stream-upload.ts): equal parts, a few
// in flight, and an abort on any failure so that no orphan parts or partial object remain.
//
// Never overwriting: a run first claims its key with a conditional PutObject of an empty
// placeholder (If-None-Match: *, 412 when the key exists), which R2 and the local endpoint both
// honour. Only the claim's holder then writes the archive over its own placeholder. (The local
// endpoint ignores If-None-Match on CompleteMultipartUpload, so a conditional complete alone
// would let two runs of the same second overwrite each other there.)
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { S3StreamUpload, statusOf } from './s3-stream-upload.js';
import { MIB, partsInFlight, type ArchiveUploader, type PendingUpload } from './uploader.js';

/** An S3 error as a message that says what to fix. */
export function explainS3Error(error: unknown, bucket: string, endpoint: string): string {
  const name = (error as Error)?.name ?? '';
  const status = statusOf(error);
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}: ${(error as Error)?.message ?? String(error)}`;
  if (
    /SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied|Unauthorized|Forbidden/i.test(name) ||
    status === 401 ||
    status === 403
  ) {
    return `R2 refused the credentials for bucket ${bucket} at ${endpoint}: check r2-access-key-id and r2-secret-access-key, and that the token may write objects to this bucket. ${detail}`;
  }
  if (/NoSuchBucket/i.test(name)) {
    return `Bucket ${bucket} does not exist at ${endpoint}: create it in R2, or fix the bucket / bucket-map inputs. ${detail}`;
  }
  return `Upload to bucket ${bucket} at ${endpoint} failed: ${detail}`;
}

export class S3Uploader implements ArchiveUploader {
  readonly description: string;
  readonly maxPartSize = 5 * 1024 * MIB;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    endpoint: string,
    private readonly contentType: string,
  ) {
    this.description = `${endpoint} (bucket ${bucket})`;
  }

  async begin(key: string): Promise<PendingUpload | undefined> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: new Uint8Array(0),
          IfNoneMatch: '*',
          Metadata: { 'r2-backup-state': 'uploading' },
        }),
      );
    } catch (error) {
      if (statusOf(error) === 412) return undefined;
      throw error;
    }
    return new S3PendingUpload(this.client, this.bucket, key, this.contentType);
  }
}

class S3PendingUpload implements PendingUpload {
  private readonly upload: S3StreamUpload;
  private stored = false;
  private aborted = false;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    contentType: string,
  ) {
    this.upload = new S3StreamUpload(client, { Bucket: bucket, Key: key, ContentType: contentType });
  }

  async send(body: Readable, partSize: number): Promise<void> {
    // A body shorter than one part is written over the placeholder by one PutObject.
    await this.upload.send(body, partSize, partsInFlight(partSize));
    this.stored = true;
  }

  async abort(): Promise<void> {
    // A stored archive is never deleted.
    if (this.stored || this.aborted) return;
    this.aborted = true;
    await this.upload.abort();
    // Removes our placeholder (or an object a single PutObject had just stored).
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key }));
  }
}
