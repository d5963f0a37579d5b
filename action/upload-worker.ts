// Uploads the archive through the Worker's multipart route (docs/worker-api.md), for runs
// that have an API token but no S3 keys. Parts are equal, a few in flight, each retried on
// transient errors; memory stays at a few parts whatever the size.
import type { Readable } from 'node:stream';
import { withRetries } from './retry.js';
import { sendParts } from './send-parts.js';
import { KeyExistsError, MIB, partsInFlight, type ArchiveUploader, type PendingUpload } from './uploader.js';
import { WorkerApiError, isTransientWorkerError, type WorkerClient } from './worker-client.js';

/** Under the Worker's 100 MB request limit. */
const WORKER_MAX_PART = 95 * MIB;
const PART_TIMEOUT_MS = 10 * 60_000;

export class WorkerUploader implements ArchiveUploader {
  readonly description: string;
  readonly maxPartSize = WORKER_MAX_PART;

  constructor(
    private readonly client: WorkerClient,
    private readonly bucket: string,
  ) {
    this.description = `the Worker at ${client.baseUrl} (bucket ${bucket})`;
  }

  async begin(key: string): Promise<PendingUpload | undefined> {
    try {
      const answer = await this.client.request<{ uploadId: string }>('POST', this.path(), {
        query: { key, action: 'mpu-create' },
      });
      return new WorkerPendingUpload(this.client, this.path(), key, answer.uploadId);
    } catch (error) {
      if (error instanceof WorkerApiError && error.status === 409) return undefined;
      throw error;
    }
  }

  private path(): string {
    return `/api/r2/buckets/${encodeURIComponent(this.bucket)}/upload`;
  }
}

class WorkerPendingUpload implements PendingUpload {
  private finished = false;

  constructor(
    private readonly client: WorkerClient,
    private readonly path: string,
    private readonly key: string,
    private readonly uploadId: string,
  ) {}

  async send(body: Readable, partSize: number): Promise<void> {
    const sent = await sendParts(body, partSize, partsInFlight(partSize), (part) =>
      this.sendPart(part.number, part.data),
    );
    const parts = sent.map(({ number, etag }) => ({ partNumber: number, etag }));
    try {
      await this.client.request('POST', this.path, {
        query: { key: this.key, action: 'mpu-complete', uploadId: this.uploadId },
        json: { parts },
        timeoutMs: PART_TIMEOUT_MS,
      });
    } catch (error) {
      // The Worker aborts the upload itself when it refuses a taken key.
      if (error instanceof WorkerApiError && error.status === 409) {
        this.finished = true;
        throw new KeyExistsError(this.key);
      }
      throw error;
    }
    this.finished = true;
  }

  private async sendPart(partNumber: number, data: Buffer): Promise<string> {
    const answer = await withRetries(
      () =>
        this.client.request<{ etag: string }>('PUT', this.path, {
          query: {
            key: this.key,
            action: 'mpu-uploadpart',
            uploadId: this.uploadId,
            partNumber: String(partNumber),
          },
          body: data,
          timeoutMs: PART_TIMEOUT_MS,
        }),
      { attempts: 4, isTransient: isTransientWorkerError },
    );
    return answer.etag;
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.client.request('DELETE', this.path, {
      query: { key: this.key, action: 'mpu-abort', uploadId: this.uploadId },
    });
  }
}
