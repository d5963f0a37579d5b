// Where a restore or a deep verify reads an archive's bytes: straight from R2 over S3 when the
// keys are at hand, else through the Worker's download route. Both stream.
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { WorkerClient } from '../worker-api/client.js';

export type ArchiveSource = { kind: 's3'; s3: S3Client } | { kind: 'worker'; worker: WorkerClient };

/** The object's bytes; `signal` abandons the request (a restore that gave up on it). */
export async function openObject(
  source: ArchiveSource,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<Readable> {
  if (source.kind === 'worker') return source.worker.download(bucket, key, signal);
  const answer = await source.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
    abortSignal: signal,
  });
  return answer.Body as Readable;
}

export const describeSource = (source: ArchiveSource): string =>
  source.kind === 's3' ? 'R2 over S3' : 'the Worker download route';
