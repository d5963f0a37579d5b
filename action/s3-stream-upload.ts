// One stream into one S3 object: equal parts, a few in flight (send-parts.ts), or a single
// PutObject when the whole body is shorter than one part. A failure aborts the multipart
// upload, so no parts stay behind; abort() also cancels the requests in flight.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Part } from './equal-parts.js';
import { sendParts } from './send-parts.js';

/** The HTTP status of an S3 error, when it has one. */
export const statusOf = (error: unknown): number | undefined =>
  (error as S3ServiceException)?.$metadata?.httpStatusCode;

export interface StreamTarget {
  Bucket: string;
  Key: string;
  ContentType?: string;
}

export class S3StreamUpload {
  private readonly client: S3Client;
  private readonly target: StreamTarget;
  private uploadId: Promise<string> | undefined;
  private readonly cancel = new AbortController();
  private settled = false;

  constructor(client: S3Client, target: StreamTarget) {
    this.client = client;
    this.target = target;
  }

  /** Resolves with the stored object's ETag. */
  async send(body: Readable, partSize: number, parallel: number): Promise<string> {
    let singleEtag: string | undefined;
    const sendPart = async (part: Part): Promise<string> => {
      if (part.number === 1 && part.last) {
        singleEtag = await this.put(part.data);
        return '';
      }
      return this.uploadPart(part);
    };
    try {
      const parts = await sendParts(body, partSize, parallel, sendPart);
      if (!this.uploadId) return singleEtag!;
      const uploadId = await this.uploadId;
      const { ETag } = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.target.Bucket,
          Key: this.target.Key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.number, ETag: p.etag })) },
        }),
        { abortSignal: this.cancel.signal },
      );
      this.settled = true;
      return ETag!;
    } catch (error) {
      await this.abort().catch(() => undefined);
      throw error;
    }
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

  private async put(data: Buffer): Promise<string> {
    const { ETag } = await this.client.send(
      new PutObjectCommand({ ...this.target, Body: data, ContentLength: data.length }),
      { abortSignal: this.cancel.signal },
    );
    this.settled = true;
    return ETag!;
  }

  private async uploadPart(part: Part): Promise<string> {
    this.uploadId ??= this.client
      .send(new CreateMultipartUploadCommand(this.target), { abortSignal: this.cancel.signal })
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
      { abortSignal: this.cancel.signal },
    );
    return ETag!;
  }
}
