// Counts the requests an S3 client sends, by R2 billing class, every attempt included (the
// middleware sits inside the SDK's retry loop). Class B: GetObject, HeadObject. Everything
// else the mirror sends is counted as Class A, deletes and aborts included (R2 bills
// DeleteObject and AbortMultipartUpload as free: the count errs on the side of cost).
import type { S3Client } from '@aws-sdk/client-s3';

export interface RequestCounts {
  classA: number;
  classB: number;
  byOperation: Record<string, number>;
}

const CLASS_B = new Set(['GetObject', 'HeadObject', 'HeadBucket']);
let attached = 0;

export function countRequests(client: S3Client): { counts: RequestCounts; detach: () => void } {
  const counts: RequestCounts = { classA: 0, classB: 0, byOperation: {} };
  const name = `mirrorRequestCounter${++attached}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts.byOperation[operation] = (counts.byOperation[operation] ?? 0) + 1;
      if (CLASS_B.has(operation)) counts.classB++;
      else counts.classA++;
      return next(args);
    },
    { step: 'deserialize', name },
  );
  return { counts, detach: () => void client.middlewareStack.remove(name) };
}
