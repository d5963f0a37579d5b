// The mirror's manifest: what the last sync left under the prefix (size, ETag and SHA-256 of
// every object), so the next sync knows what changed without a request per file.
//
// It is written by the mirror only, with the SHA-256 of its own body as object metadata: a
// manifest replaced or edited by anything else (whose metadata then no longer matches) is not
// trusted. `state: "syncing"` is written before a sync changes any object and lists the paths
// it may touch (`pending`); `state: "complete"` is written last. A sync that was interrupted
// thus leaves a manifest that says exactly which paths are in doubt.
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';

export const MANIFEST_VERSION = 1;
const CHECKSUM_METADATA = 'manifest-sha256';

export interface ManifestEntry {
  size: number;
  /** The object's ETag, without quotes. */
  etag: string;
  /** SHA-256 of the content; absent for objects found by a listing whose content is unknown. */
  sha256?: string;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  prefix: string;
  state: 'complete' | 'syncing';
  updatedAt: string;
  /** While syncing: paths that may have been uploaded or deleted since `files` was true. */
  pending: string[];
  files: Record<string, ManifestEntry>;
}

export type StoredManifest =
  { status: 'ok'; manifest: Manifest } | { status: 'missing' | 'invalid'; reason: string };

const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

export async function readManifest(
  s3: S3Client,
  bucket: string,
  key: string,
  prefix: string,
): Promise<StoredManifest> {
  let body: Uint8Array;
  let checksum: string | undefined;
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = await response.Body!.transformToByteArray();
    checksum = response.Metadata?.[CHECKSUM_METADATA];
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return { status: 'missing', reason: 'no manifest' };
    throw error;
  }
  if (checksum !== sha256Hex(body)) {
    return { status: 'invalid', reason: 'manifest checksum does not match (changed outside the mirror)' };
  }
  try {
    return { status: 'ok', manifest: checkManifest(JSON.parse(Buffer.from(body).toString('utf8')), prefix) };
  } catch (error) {
    return { status: 'invalid', reason: `manifest unreadable: ${(error as Error).message}` };
  }
}

function checkManifest(value: unknown, prefix: string): Manifest {
  const m = value as Partial<Manifest> | null;
  if (typeof m !== 'object' || m === null) throw new Error('not an object');
  if (m.version !== MANIFEST_VERSION) throw new Error(`version ${String(m.version)}`);
  if (m.prefix !== prefix) throw new Error(`prefix ${String(m.prefix)} is not ${prefix}`);
  if (m.state !== 'complete' && m.state !== 'syncing') throw new Error(`state ${String(m.state)}`);
  if (!Array.isArray(m.pending) || m.pending.some((p) => typeof p !== 'string')) throw new Error('pending');
  if (typeof m.files !== 'object' || m.files === null) throw new Error('files');
  for (const [path, entry] of Object.entries(m.files)) {
    const ok =
      path !== '' &&
      typeof entry === 'object' &&
      entry !== null &&
      Number.isSafeInteger(entry.size) &&
      entry.size >= 0 &&
      typeof entry.etag === 'string' &&
      (entry.sha256 === undefined || /^[0-9a-f]{64}$/.test(entry.sha256));
    if (!ok) throw new Error(`entry ${JSON.stringify(path)}`);
  }
  return m as Manifest;
}

export async function writeManifest(
  s3: S3Client,
  bucket: string,
  key: string,
  manifest: Manifest,
): Promise<void> {
  const body = Buffer.from(JSON.stringify(manifest));
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: 'application/json',
      Metadata: { [CHECKSUM_METADATA]: sha256Hex(body) },
    }),
  );
}
