// Uploads the archive stream to R2 over the S3 API (s3-stream-upload.ts): equal parts, a few
// in flight, and an abort on any failure so that no orphan parts or partial object remain.
//
// Never overwriting: a run first claims its key with a conditional PutObject of an empty
// placeholder (If-None-Match: *, 412 when the key exists), which R2 and the local endpoint both
// honour. Only the claim's holder then writes the archive over its own placeholder. (The local
// endpoint ignores If-None-Match on CompleteMultipartUpload, so a conditional complete alone
// would let two runs of the same second overwrite each other there.)
//
// A claim carries the run's identity: when its answer is lost and the retry meets 412 on it, the
// run recognises its own claim and carries on. Cleanup deletes only this run's empty claim, never
// an object that may be a completed backup.
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { clockSkewOf, clockSkewText, failedRequestOf } from '../r2/client.js';
import { gaveUpOn } from '../retry.js';
import { S3StreamUpload, statusOf, type DigestOf, type StreamTarget } from './s3-stream-upload.js';
import { MIB, partsInFlight, runIdentity, type ArchiveUploader, type PendingUpload } from './uploader.js';

const CLAIM_METADATA = 'r2-backup-claim';

/** An S3 error as a message that says what to fix. */
export function explainS3Error(error: unknown, bucket: string, endpoint: string): string {
  const name = (error as Error)?.name ?? '';
  const status = statusOf(error);
  const request = failedRequestOf(error);
  // "after 5 attempts": the client retried what may succeed again; this is what it gave up on.
  const attempts = gaveUpOn(error)?.attempts ?? 1;
  const tried = attempts > 1 ? ` failed after ${attempts} attempts` : '';
  const detail = `${request ? `${request}${tried}: ` : ''}${name}${status ? ` (HTTP ${status})` : ''}: ${(error as Error)?.message ?? String(error)}`;
  if (name === 'RequestTimeTooSkewed') {
    return `R2 at ${endpoint} refused the request because ${clockSkewText(clockSkewOf(error))}: set the runner's clock right (NTP). ${detail}`;
  }
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
    protected readonly client: S3Client,
    protected readonly bucket: string,
    endpoint: string,
    protected readonly contentType: string,
    protected readonly log: (message: string) => void = () => undefined,
    /** Tags this run's claims (runIdentity()). */
    protected readonly identity = runIdentity(),
    /** Custom metadata each stored object starts with (common/archive-metadata.ts). */
    protected readonly objectMetadata: Record<string, string> = {},
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
          Metadata: { 'r2-backup-state': 'uploading', [CLAIM_METADATA]: this.identity },
        }),
      );
    } catch (error) {
      if (statusOf(error) !== 412) throw error;
      // Taken: by another run, or by this run's own claim whose answer was lost (the retry met it).
      if (!(await isOwnClaim(this.client, this.bucket, key, this.identity))) return undefined;
      this.log(`The claim of ${key} is this run's (its answer was lost); carrying on with it`);
    }
    return new S3PendingUpload(
      this.client,
      { Bucket: this.bucket, Key: key, ContentType: this.contentType, Metadata: this.objectMetadata },
      this.identity,
      this.log,
    );
  }
}

/**
 * For keys named by their content's SHA-256 (LFS objects, `lfs/{tenant}/{oid}`): no claim. Every
 * writer of such a key writes the same bytes (checked against the oid as they are sent), so what
 * is there is replaced, whatever it is: an earlier run's leftover claim, or bytes planted under the
 * oid. The caller skips keys whose stored size is already right.
 */
export class S3ContentUploader extends S3Uploader {
  override begin(key: string): Promise<PendingUpload> {
    const target = {
      Bucket: this.bucket,
      Key: key,
      ContentType: this.contentType,
      Metadata: this.objectMetadata,
    };
    return Promise.resolve(new S3PendingUpload(this.client, target, this.identity, this.log));
  }
}

/** Whether `key` holds this run's empty claim. */
async function isOwnClaim(client: S3Client, bucket: string, key: string, identity: string): Promise<boolean> {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  return head?.ContentLength === 0 && head.Metadata?.[CLAIM_METADATA] === identity;
}

class S3PendingUpload implements PendingUpload {
  private readonly upload: S3StreamUpload;
  private readonly bucket: string;
  private readonly key: string;
  private stored = false;
  private aborted = false;

  constructor(
    private readonly client: S3Client,
    target: StreamTarget,
    private readonly identity: string,
    private readonly log: (message: string) => void,
  ) {
    this.bucket = target.Bucket;
    this.key = target.Key;
    this.upload = new S3StreamUpload(client, target, log);
  }

  async send(body: Readable, partSize: number, digestOf?: DigestOf): Promise<void> {
    // A body shorter than one part is written over the placeholder by one PutObject.
    await this.upload.send(body, partSize, partsInFlight(partSize), digestOf);
    this.stored = true;
  }

  async abort(): Promise<void> {
    // A stored archive is never deleted.
    if (this.stored || this.aborted) return;
    this.aborted = true;
    await this.upload.abort();
    // Removes this run's empty claim, and nothing else: an object this upload completed (its
    // answer lost) stays, and so does anything another writer put there.
    if (await isOwnClaim(this.client, this.bucket, this.key, this.identity)) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key }));
    } else if (await this.upload.isStoredAtKey()) {
      this.log(`${this.key} was completed by this run before it failed; it is left in place`);
    }
  }
}
