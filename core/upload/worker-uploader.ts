// Uploads the archive through the Worker's multipart route (docs/worker-api.md), for runs
// that have an API token but no S3 keys. Parts are equal, a few in flight, each retried on
// transient errors; memory stays at a few parts whatever the size.
//
// Every step is retried on transient errors, after the Worker's Retry-After (capped) or a
// backoff, with a log line naming it; each attempt has an idle timeout and a deadline sized to
// its body (retry.ts). Completion is idempotent: the upload's token goes with mpu-create (into the
// object's metadata) and with mpu-complete, so a retried complete whose first answer was lost is
// told the object is already this upload's, instead of 409.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { attemptDeadlineMs, withRetries } from '../retry.js';
import { sendParts } from './send-parts.js';
import { KeyExistsError, MIB, partsInFlight, type ArchiveUploader, type PendingUpload } from './uploader.js';
import {
  WorkerApiError,
  isTransientWorkerError,
  workerRetryAfter,
  type WorkerClient,
} from '../worker-api/client.js';

/** Under the Worker's 100 MB request limit. */
const WORKER_MAX_PART = 95 * MIB;
const ATTEMPTS = 5;

export class WorkerUploader implements ArchiveUploader {
  readonly description: string;
  readonly maxPartSize = WORKER_MAX_PART;

  constructor(
    private readonly client: WorkerClient,
    private readonly bucket: string,
    private readonly log: (message: string) => void = () => undefined,
    /** Custom metadata the Worker writes into each stored object (common/archive-metadata.ts). */
    private readonly objectMetadata: Record<string, string> = {},
  ) {
    this.description = `the Worker at ${client.baseUrl} (bucket ${bucket})`;
  }

  async begin(key: string): Promise<PendingUpload | undefined> {
    const token = randomUUID();
    try {
      const answer = await withRetries(
        () =>
          this.client.request<{ uploadId: string }>('POST', this.path(), {
            query: { key, action: 'mpu-create', token },
            ...(Object.keys(this.objectMetadata).length > 0 && { json: { metadata: this.objectMetadata } }),
          }),
        retrying(`mpu-create ${key}`, this.log),
      );
      return new WorkerPendingUpload(this.client, this.path(), key, answer.uploadId, token, this.log);
    } catch (error) {
      if (error instanceof WorkerApiError && error.status === 409) return undefined;
      throw error;
    }
  }

  private path(): string {
    return `/api/r2/buckets/${encodeURIComponent(this.bucket)}/upload`;
  }
}

/** Retry options of a Worker step: transient errors, Retry-After, a log line naming the step. */
const retrying = (what: string, log: (message: string) => void) => ({
  attempts: ATTEMPTS,
  isTransient: isTransientWorkerError,
  retryAfterOf: workerRetryAfter,
  what,
  log,
});

class WorkerPendingUpload implements PendingUpload {
  private finished = false;

  constructor(
    private readonly client: WorkerClient,
    private readonly path: string,
    private readonly key: string,
    private readonly uploadId: string,
    private readonly token: string,
    private readonly log: (message: string) => void,
  ) {}

  async send(body: Readable, partSize: number): Promise<void> {
    let bytes = 0;
    const sent = await sendParts(body, partSize, partsInFlight(partSize), (part) => {
      bytes += part.data.length;
      return this.sendPart(part.number, part.data);
    });
    const parts = sent.map(({ number, etag }) => ({ partNumber: number, etag }));
    try {
      const answer = await withRetries(
        () =>
          this.client.request<{ size: number; completed_before?: boolean }>('POST', this.path, {
            query: { key: this.key, action: 'mpu-complete', uploadId: this.uploadId, token: this.token },
            json: { parts },
          }),
        retrying(`mpu-complete ${this.key}`, this.log),
      );
      if (answer.size !== bytes) {
        throw new Error(`The Worker completed ${this.key} with ${answer.size} bytes, not the ${bytes} sent`);
      }
      if (answer.completed_before) {
        this.log(
          `mpu-complete ${this.key}: the object is this upload's, completed by an earlier attempt; carrying on`,
        );
      }
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
          timeoutMs: attemptDeadlineMs(data.length),
        }),
      retrying(`mpu-uploadpart ${this.key} part ${partNumber}`, this.log),
    );
    return answer.etag;
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await withRetries(
      () =>
        this.client.request('DELETE', this.path, {
          query: { key: this.key, action: 'mpu-abort', uploadId: this.uploadId },
        }),
      retrying(`mpu-abort ${this.key}`, this.log),
    ).catch((error: unknown) => {
      if (!(error instanceof WorkerApiError && error.status === 404)) throw error; // already gone
    });
  }
}
