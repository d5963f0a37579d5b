// Abandoned uploads over S3: a run killed mid-upload leaves its empty claim at the archive's key
// (core/upload/s3-uploader.ts) and an unfinished multipart upload holding its parts. Claims
// older than a limit are deleted (each looked at again just before, so an archive that
// completed over its claim is never deleted), and the tenant's multipart uploads started
// before it are aborted. Where R2 cannot list multipart uploads, that is said, not hidden: its
// lifecycle rule for incomplete multipart uploads is the safety net (docs/operations.md).
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { tenantPrefix } from '../../common/naming.js';

/** The claim's tag (s3-uploader.ts): the run that holds the key. */
export const CLAIM_TAG = 'r2-backup-claim';

export interface SweepOptions {
  s3: S3Client;
  bucket: string;
  tenant: string;
  /** Claims and multipart uploads older than this many milliseconds are abandoned. */
  olderThanMs: number;
  dryRun: boolean;
  now?: number;
}

export interface SweepResult {
  /** Claims deleted (or, in a dry run, that would be). */
  claims: { key: string; age_ms: number }[];
  /** Younger claims: uploads in progress, left alone. */
  in_progress: { key: string; age_ms: number }[];
  /** Multipart uploads aborted (or that would be). */
  uploads: { key: string; upload_id: string; age_ms: number }[];
  /** Why multipart uploads could not be listed, when they could not. */
  uploads_unlisted?: string;
}

async function emptyObjects(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      // Claims sit where archives do: directly in the tenant's folder, empty.
      if (object.Size === 0 && object.Key && !object.Key.slice(prefix.length).includes('/'))
        keys.push(object.Key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function claimAt(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ modified: number; etag: string } | null> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  if (!head || head.ContentLength !== 0 || head.Metadata?.[CLAIM_TAG] === undefined) return null;
  return { modified: head.LastModified?.getTime() ?? 0, etag: head.ETag ?? '' };
}

export async function sweepAbandoned(options: SweepOptions): Promise<SweepResult> {
  const { s3, bucket, tenant, olderThanMs, dryRun } = options;
  const now = options.now ?? Date.now();
  const prefix = tenantPrefix(tenant);
  const result: SweepResult = { claims: [], in_progress: [], uploads: [] };

  for (const key of await emptyObjects(s3, bucket, prefix)) {
    const claim = await claimAt(s3, bucket, key);
    if (!claim) continue;
    const age = now - claim.modified;
    if (age <= olderThanMs) {
      result.in_progress.push({ key, age_ms: age });
      continue;
    }
    if (!dryRun) {
      const again = await claimAt(s3, bucket, key);
      if (!again || again.etag !== claim.etag) continue; // completed or replaced meanwhile
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
    result.claims.push({ key, age_ms: age });
  }

  try {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const page = await s3.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: idMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        const age = now - (upload.Initiated?.getTime() ?? now);
        if (!upload.Key || !upload.UploadId || age <= olderThanMs) continue;
        if (!dryRun) {
          await s3.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
          );
        }
        result.uploads.push({ key: upload.Key, upload_id: upload.UploadId, age_ms: age });
      }
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      idMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  } catch (error) {
    const name = (error as Error)?.name ?? 'Error';
    result.uploads_unlisted = `${name}: ${(error as Error)?.message ?? String(error)}`;
  }
  return result;
}
