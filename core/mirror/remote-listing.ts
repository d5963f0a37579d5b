// What is stored under the mirror prefix, by ListObjectsV2: all of it (paginated), or one page
// from a given path on, which the spot check compares with the manifest.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ManifestEntry } from './manifest.js';

export interface ListedPage {
  objects: Map<string, ManifestEntry>;
  /** More keys follow the last one listed. */
  truncated: boolean;
}

export const unquote = (etag: string | undefined): string => (etag ?? '').replace(/^"|"$/g, '');

async function listPage(
  s3: S3Client,
  bucket: string,
  prefix: string,
  into: Map<string, ManifestEntry>,
  from: { startAfter?: string; token?: string },
): Promise<{ truncated: boolean; token?: string }> {
  const response = await s3.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: prefix,
      MaxKeys: 1000,
      StartAfter: from.startAfter === undefined ? undefined : prefix + from.startAfter,
      ContinuationToken: from.token,
    }),
  );
  for (const object of response.Contents ?? []) {
    into.set(object.Key!.slice(prefix.length), { size: object.Size ?? 0, etag: unquote(object.ETag) });
  }
  return { truncated: response.IsTruncated === true, token: response.NextContinuationToken };
}

/** One page (up to 1,000 objects) of the paths after `startAfter`, or from the first. */
export async function listWindow(
  s3: S3Client,
  bucket: string,
  prefix: string,
  startAfter: string | undefined,
): Promise<ListedPage> {
  const objects = new Map<string, ManifestEntry>();
  const { truncated } = await listPage(s3, bucket, prefix, objects, { startAfter });
  return { objects, truncated };
}

export async function listAll(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Map<string, ManifestEntry>> {
  const objects = new Map<string, ManifestEntry>();
  let page = await listPage(s3, bucket, prefix, objects, {});
  while (page.truncated) {
    if (!page.token) throw new Error(`ListObjectsV2 of ${prefix} was truncated without a continuation token`);
    page = await listPage(s3, bucket, prefix, objects, { token: page.token });
  }
  return objects;
}
