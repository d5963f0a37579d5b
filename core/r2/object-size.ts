// An object's stored size over S3 (HeadObject), or undefined when there is none: how a backup
// checks an LFS object another backup stored before it (core/git/lfs.ts). The Worker's routes
// have no such request.
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { statusOf } from '../upload/s3-stream-upload.js';

export const objectSizeOverS3 =
  (client: S3Client, bucket: string) =>
  async (key: string): Promise<number | undefined> => {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return head.ContentLength;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };
