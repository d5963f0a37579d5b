// One stream into one S3 object: equal parts, a few in flight (send-parts.ts), or a single
// PutObject when the whole body is shorter than one part. A failure aborts the multipart
// upload, so no parts stay behind; abort() also cancels the requests in flight.
//
// Completion is idempotent: each upload writes a token of its own (and, for a single PutObject,
// the body's SHA-256) into the object's metadata. When CompleteMultipartUpload (or the PutObject)
// fails ambiguously (NoSuchUpload after a retry, a timeout, a reset: the answer may have been
// lost after R2 did the work), the object is checked with HEAD, and when it is this upload's
// (its token, and its size) the upload has succeeded.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Part } from '../streams/equal-parts.js';
import { attemptDeadlineMs } from '../retry.js';
import { sendParts } from './send-parts.js';

/** The HTTP status of an S3 error, when it has one. */
export const statusOf = (error: unknown): number | undefined =>
  (error as S3ServiceException)?.$metadata?.httpStatusCode;

/** Custom metadata of what the action stores: which upload wrote it, and its SHA-256 and size when
 *  known (a single PutObject), from which a record can be rebuilt (common/archive-metadata.ts). */
export const UPLOAD_TOKEN_METADATA = 'r2-backup-upload';
export const SHA256_METADATA = 'r2-backup-sha256';
export const SIZE_METADATA = 'r2-backup-size';

export interface StreamTarget {
  Bucket: string;
  Key: string;
  ContentType?: string;
  /** Custom metadata known before the upload starts (common/archive-metadata.ts). */
  Metadata?: Record<string, string>;
}

/** The body's digest once it has ended (the hash stage's), for the metadata of a single PutObject. */
export type DigestOf = () => { sha256: string; size: number } | undefined;

/** A definite refusal: the request was judged and refused, so nothing may have been stored by it. */
const definite = (error: unknown): boolean => {
  const status = statusOf(error);
  return status !== undefined && status >= 400 && status < 500 && status !== 404 && status !== 408;
};

export class S3StreamUpload {
  private readonly client: S3Client;
  private readonly target: StreamTarget;
  private uploadId: Promise<string> | undefined;
  private readonly cancel = new AbortController();
  private settled = false;
  /** Written into the object's metadata: what makes it recognisably this upload's. */
  readonly token = randomUUID();
  private readonly log: (message: string) => void;

  constructor(client: S3Client, target: StreamTarget, log: (message: string) => void = () => undefined) {
    this.client = client;
    this.target = target;
    this.log = log;
  }

  /** Resolves with the stored object's ETag. */
  async send(body: Readable, partSize: number, parallel: number, digestOf?: DigestOf): Promise<string> {
    let singleEtag: string | undefined;
    let bytes = 0;
    const sendPart = async (part: Part): Promise<string> => {
      bytes += part.data.length;
      if (part.number === 1 && part.last) {
        singleEtag = await this.put(part.data, digestOf?.());
        return '';
      }
      return this.uploadPart(part);
    };
    try {
      const parts = await sendParts(body, partSize, parallel, sendPart);
      if (!this.uploadId) return singleEtag!;
      const uploadId = await this.uploadId;
      const etag = await this.client
        .send(
          new CompleteMultipartUploadCommand({
            Bucket: this.target.Bucket,
            Key: this.target.Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.number, ETag: p.etag })) },
          }),
          { abortSignal: this.cancel.signal },
        )
        .then(
          (answer) => answer.ETag!,
          (error: unknown) => this.ifOurs(error, bytes, 'CompleteMultipartUpload'),
        );
      this.settled = true;
      return etag;
    } catch (error) {
      await this.abort().catch(() => undefined);
      throw error;
    }
  }

  /**
   * After a failed completion: when the key holds this upload's object of `bytes` bytes, the
   * answer was lost after R2 completed it, and it is a success; else the failure stands.
   */
  private async ifOurs(error: unknown, bytes: number, what: string): Promise<string> {
    if (this.cancel.signal.aborted || definite(error)) throw error;
    const head = await this.client
      .send(new HeadObjectCommand({ Bucket: this.target.Bucket, Key: this.target.Key }))
      .catch(() => undefined);
    const ours = head?.Metadata?.[UPLOAD_TOKEN_METADATA] === this.token && head.ContentLength === bytes;
    if (!ours) throw error;
    this.log(
      `${what} ${this.target.Key} failed (${(error as Error).name ?? 'Error'}: ${(error as Error).message}), but the object at the key is this upload's: completed, ${bytes} bytes; carrying on`,
    );
    return head.ETag ?? '';
  }

  /** Whether the key holds this upload's completed object (for cleanup that must never delete it). */
  async isStoredAtKey(): Promise<boolean> {
    const head = await this.client
      .send(new HeadObjectCommand({ Bucket: this.target.Bucket, Key: this.target.Key }))
      .catch(() => undefined);
    return head?.Metadata?.[UPLOAD_TOKEN_METADATA] === this.token;
  }

  /** Cancels the requests in flight and aborts the multipart upload, if one was started. */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.cancel.abort();
    const uploadId = await this.uploadId?.catch(() => undefined);
    if (!uploadId) return;
    await this.client
      .send(
        new AbortMultipartUploadCommand({
          Bucket: this.target.Bucket,
          Key: this.target.Key,
          UploadId: uploadId,
        }),
      )
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) throw error; // already gone
      });
  }

  private metadata(digest?: { sha256: string; size: number }): Record<string, string> {
    return {
      ...this.target.Metadata,
      [UPLOAD_TOKEN_METADATA]: this.token,
      ...(digest && { [SHA256_METADATA]: digest.sha256, [SIZE_METADATA]: String(digest.size) }),
    };
  }

  private async put(data: Buffer, digest?: { sha256: string; size: number }): Promise<string> {
    const etag = await this.client
      .send(
        new PutObjectCommand({
          ...this.target,
          Body: data,
          ContentLength: data.length,
          Metadata: this.metadata(digest?.size === data.length ? digest : undefined),
        }),
        { abortSignal: this.cancel.signal, requestTimeout: attemptDeadlineMs(data.length) },
      )
      .then(
        (answer) => answer.ETag!,
        (error: unknown) => this.ifOurs(error, data.length, 'PutObject'),
      );
    this.settled = true;
    return etag;
  }

  private async uploadPart(part: Part): Promise<string> {
    this.uploadId ??= this.client
      .send(new CreateMultipartUploadCommand({ ...this.target, Metadata: this.metadata() }), {
        abortSignal: this.cancel.signal,
      })
      .then((answer) => answer.UploadId!);
    const { ETag } = await this.client.send(
      new UploadPartCommand({
        Bucket: this.target.Bucket,
        Key: this.target.Key,
        UploadId: await this.uploadId,
        PartNumber: part.number,
        Body: part.data,
        ContentLength: part.data.length,
      }),
      { abortSignal: this.cancel.signal, requestTimeout: attemptDeadlineMs(part.data.length) },
    );
    return ETag!;
  }
}
