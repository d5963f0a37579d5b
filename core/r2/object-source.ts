// Where a restore or a deep verify reads an archive's bytes: straight from R2 over S3 when the
// keys are at hand, else through the Worker's download route. Both stream, and both can
// resume a cut download: the rest of the object from a byte on, pinned to the first answer's ETag.
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { WorkerClient } from '../worker-api/client.js';

export type ArchiveSource = { kind: 's3'; s3: S3Client } | { kind: 'worker'; worker: WorkerClient };

/** Where a resumed download starts, and the ETag of the object it started on. */
export interface ResumeFrom {
  offset: number;
  etag: string;
}

/** An object's bytes (from `offset` when resumed) and its ETag, to pin a resumed request to. */
export interface OpenedObject {
  body: Readable;
  etag: string | undefined;
}

/** The object is no longer the one a download started on: replaced or deleted since. */
export class ObjectChangedError extends Error {
  override name = 'ObjectChangedError';
}

/** The HTTP status of a refusal: a WorkerApiError's, or an S3 SDK error's. */
const statusOf = (error: unknown): number | undefined =>
  (error as { status?: number })?.status ??
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/** The object's bytes; `signal` abandons the request (a restore that gave up on it); `from`
 *  asks for the rest of the object from a byte on, only if its ETag is still `from.etag`. */
export async function openObject(
  source: ArchiveSource,
  bucket: string,
  key: string,
  signal?: AbortSignal,
  from?: ResumeFrom,
): Promise<OpenedObject> {
  let opened: OpenedObject;
  try {
    opened =
      source.kind === 'worker'
        ? await source.worker.download(bucket, key, signal, from)
        : await getOverS3(source.s3, bucket, key, signal, from);
  } catch (error) {
    // 412: If-Match failed; 404: deleted; 416: shorter than what was already read.
    if (from && [404, 412, 416].includes(statusOf(error) ?? 0)) {
      throw new ObjectChangedError(`${key} changed since its download started (${(error as Error).message})`);
    }
    throw error;
  }
  if (from && opened.etag !== from.etag) {
    opened.body.destroy();
    throw new ObjectChangedError(
      `${key} changed since its download started: ETag ${from.etag}, now ${opened.etag}`,
    );
  }
  return opened;
}

async function getOverS3(
  s3: S3Client,
  bucket: string,
  key: string,
  signal: AbortSignal | undefined,
  from: ResumeFrom | undefined,
): Promise<OpenedObject> {
  const answer = await s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(from && { Range: `bytes=${from.offset}-`, IfMatch: from.etag }),
    }),
    { abortSignal: signal },
  );
  const body = answer.Body as Readable;
  // A resumed answer must start where the staged bytes end (a whole object would be appended).
  if (from && !answer.ContentRange?.startsWith(`bytes ${from.offset}-`)) {
    body.destroy();
    throw new Error(
      `GetObject ${key}: asked from byte ${from.offset}, answered ${answer.ContentRange ? `with ${answer.ContentRange}` : 'the whole object'}`,
    );
  }
  return { body, etag: answer.ETag };
}

/** The opener of one object for a restore: from its start, or resumed (`from`). */
export const objectOpener =
  (source: ArchiveSource, bucket: string, key: string) =>
  (signal: AbortSignal, from?: ResumeFrom): Promise<OpenedObject> =>
    openObject(source, bucket, key, signal, from);

export const describeSource = (source: ArchiveSource): string =>
  source.kind === 's3' ? 'R2 over S3' : 'the Worker download route';
