// Deletes objects in DeleteObjects batches of 1,000 (the API's limit); any key it reports as
// not deleted is an error. Deleting a key that does not exist succeeds.
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';

export const DELETE_BATCH = 1000;

export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const response = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = response.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new Error(
        `Could not delete ${failed.length} of ${batch.length} objects, first ${first.Key}: ${first.Code} ${first.Message}`,
      );
    }
  }
}
