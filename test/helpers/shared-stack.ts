// The local stack of this jest worker, shared by the suites that need no Worker configuration of
// their own: env `test`, the admin token CLOUDCONNECT and the local record signing key. jest's
// global setup (test/setup/start-shared-stacks.ts) starts one per worker, when the worker's first
// suite asks for it, and its teardown stops them. Each suite starts on empty buckets, as it did
// on a stack of its own, so that listings and counts see only what the suite stored.
import {
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { existsSync, readFileSync } from 'node:fs';
import type { LocalStack } from '../../scripts/local-stack.js';
import { readSharedStacks, type SharedStackAddress } from '../setup/shared-stacks-file.js';
import { s3Client } from '../worker/helpers.js';

/** The admin token (CLOUDCONNECT) of the shared stacks. */
export const sharedStackToken = (): string => readSharedStacks().token;

/** This worker's stack, emptied of what the suites before this one stored. Not to be stopped. */
export async function sharedStack(): Promise<LocalStack> {
  const worker = process.env.JEST_WORKER_ID ?? '1';
  const answer = await fetch(`${readSharedStacks().service}/stack?worker=${worker}`);
  if (!answer.ok) throw new Error(`No shared local stack for jest worker ${worker}: ${await answer.text()}`);
  const address = (await answer.json()) as SharedStackAddress;
  const stack: LocalStack = {
    url: address.url,
    s3Endpoint: address.s3Endpoint,
    persistTo: address.persistTo,
    pid: address.pid,
    output: () => (existsSync(address.logFile) ? readFileSync(address.logFile, 'utf8') : ''),
    stop: () =>
      Promise.reject(new Error("A shared local stack is stopped by jest's global teardown, not by a suite")),
  };
  const s3 = s3Client(stack);
  try {
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    await Promise.all(Buckets.map(({ Name }) => emptyBucket(s3, Name!)));
  } finally {
    s3.destroy();
  }
  return stack;
}

/** Deletes every object of the bucket (open multipart uploads are not objects: they stay). */
async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (Contents.length === 0) return;
    const { Errors = [] } = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: Contents.map(({ Key }) => ({ Key: Key! })), Quiet: true },
      }),
    );
    if (Errors.length > 0) throw new Error(`Emptying ${bucket}: ${Errors[0]!.Key}: ${Errors[0]!.Message}`);
  }
}
