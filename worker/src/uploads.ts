// Archives in and out through the Worker, for callers without S3 keys. Bodies stream straight
// into R2 (never buffered). Single PUT up to the 100 MB request limit of Workers; larger
// archives use R2 multipart through the same route with an `action` query parameter, as in
// Cloudflare's own R2 multipart Worker example.
import { checkArchiveMetadata } from '../../common/archive-metadata.js';
import { ValidationError } from '../../common/validate.js';
import { authorize } from './access.js';
import type { AuthedRequest } from './auth.js';
import { bucketBinding, bucketName } from './buckets.js';
import type { Env } from './env.js';
import { HttpError, jsonResponse, pathParam, queryParam } from './http.js';
import { readJsonObject } from './json-body.js';
import { sha256Of } from './object-hash.js';
import { downloadKey, uploadKey, type ObjectKey } from './object-keys.js';
import { contentTypeOf, downloadHeaders } from './object-types.js';
import { r2Failure } from './r2-errors.js';

/** Workers' request body limit on the Free and Pro plans. */
export const SINGLE_UPLOAD_LIMIT = 100_000_000;
export const MAX_PARTS = 10_000;
// A complete call lists up to 10,000 parts (about 60 bytes each).
const COMPLETE_BODY_LIMIT = 1024 * 1024;
const ARCHIVE_METADATA_BODY_LIMIT = 8 * 1024;

interface Target extends ObjectKey {
  bucket: string;
  binding: R2Bucket;
}

function target(request: AuthedRequest, env: Env, keyOf: (value: string | undefined) => ObjectKey): Target {
  const bucket = bucketName(env, pathParam(request.params, 'bucket'));
  const object = keyOf(queryParam(request.query, 'key'));
  authorize(request.principal, object.tenant, bucket);
  return { ...object, bucket, binding: bucketBinding(env, bucket) };
}

function bodyLength(request: Request, limit: number): number {
  const header = request.headers.get('content-length');
  if (header === null || !/^\d+$/.test(header)) {
    throw new HttpError(411, 'Content-Length is required: the body streams into R2, which needs its length');
  }
  const length = Number(header);
  if (length > limit) {
    throw new HttpError(
      413,
      `Body too large for one request (at most ${limit} bytes): use the multipart actions`,
    );
  }
  if (!request.body || length === 0) throw new ValidationError('body', 'must not be empty');
  return length;
}

const exists = (t: Target): HttpError =>
  new HttpError(409, `Object ${t.key} already exists in ${t.bucket}; archives are never overwritten`, {
    key: t.key,
  });

/**
 * Errors of calls on an upload id the caller gave. R2 answers 10024 for an upload that ended;
 * workerd's R2 answers 10001 (InternalError) on complete and abort for an id it does not know
 * under this key, such as another key's upload. Other R2 errors: http.ts.
 */
const uploadError =
  (t: Target, unknownIdCodes: number[]) =>
  (error: unknown): never => {
    const failure = r2Failure(error);
    if (failure && [10024, ...unknownIdCodes].includes(failure.code)) {
      throw new HttpError(
        404,
        `Multipart upload not found for ${t.key}: unknown, of another key, completed or aborted`,
        { field: 'uploadId' },
      );
    }
    if (failure && [10025, 10011, 10048].includes(failure.code)) {
      throw new HttpError(400, `Multipart upload refused by R2: ${failure.text} (${failure.code})`, {
        field: 'parts',
      });
    }
    throw error;
  };

async function putSingle(request: AuthedRequest, t: Target): Promise<Response> {
  bodyLength(request, SINGLE_UPLOAD_LIMIT);
  const stored = await t.binding.put(t.key, request.body, {
    onlyIf: new Headers({ 'if-none-match': '*' }),
    httpMetadata: { contentType: contentTypeOf(t.key) },
    // R2 refuses (BadDigest, 400) LFS bytes that are not their oid: none can be planted in one PUT.
    ...(t.sha256 ? { sha256: t.sha256 } : {}),
  });
  if (!stored) throw exists(t);
  return jsonResponse({ success: true, key: t.key, size: stored.size, etag: stored.etag }, 201);
}

/**
 * The caller's upload token (a random id it sends with mpu-create and mpu-complete): written into
 * the object's metadata, it lets a retried complete, whose first answer was lost after R2 did the
 * work, recognise the object as this upload's instead of refusing a taken key.
 */
const TOKEN_METADATA = 'r2-backup-upload';

function uploadToken(request: AuthedRequest): string | undefined {
  const token = queryParam(request.query, 'token');
  if (token !== undefined && !/^[A-Za-z0-9-]{8,64}$/.test(token)) {
    throw new ValidationError('token', 'must be 8-64 letters, digits or hyphens');
  }
  return token;
}

/** The archive's own metadata (common/archive-metadata.ts) from mpu-create's optional body
 *  `{"metadata": {...}}`: what a record can be rebuilt from if the run's record never arrives. */
async function archiveMetadataOf(request: AuthedRequest): Promise<Record<string, string>> {
  if (!request.body || request.headers.get('content-length') === '0') return {};
  const body = await readJsonObject(request, ARCHIVE_METADATA_BODY_LIMIT);
  for (const field of Object.keys(body)) {
    if (field !== 'metadata') throw new ValidationError(field, 'is not a known field');
  }
  return body.metadata === undefined ? {} : checkArchiveMetadata(body.metadata, 'metadata');
}

async function createUpload(request: AuthedRequest, t: Target): Promise<Response> {
  const token = uploadToken(request);
  const metadata = await archiveMetadataOf(request);
  // Refuse early; complete checks again because the key may appear meanwhile.
  if (await t.binding.head(t.key)) throw exists(t);
  const upload = await t.binding.createMultipartUpload(t.key, {
    httpMetadata: { contentType: contentTypeOf(t.key) },
    customMetadata: { ...metadata, ...(token && { [TOKEN_METADATA]: token }) },
  });
  return jsonResponse({ success: true, key: t.key, uploadId: upload.uploadId });
}

function uploadId(request: AuthedRequest): string {
  const id = queryParam(request.query, 'uploadId');
  if (id === undefined) throw new ValidationError('uploadId', 'is required');
  return id;
}

function checkPartNumber(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PARTS) {
    throw new ValidationError(field, `must be an integer from 1 to ${MAX_PARTS}`);
  }
  return n;
}

async function uploadPart(request: AuthedRequest, t: Target): Promise<Response> {
  const partNumber = checkPartNumber(queryParam(request.query, 'partNumber'), 'partNumber');
  const id = uploadId(request);
  bodyLength(request, SINGLE_UPLOAD_LIMIT);
  const part = await t.binding
    .resumeMultipartUpload(t.key, id)
    .uploadPart(partNumber, request.body!)
    .catch(uploadError(t, []));
  return jsonResponse({ success: true, partNumber: part.partNumber, etag: part.etag });
}

function parseParts(body: Record<string, unknown>): R2UploadedPart[] {
  const rule = `must be a list of 1-${MAX_PARTS} {partNumber, etag} in increasing partNumber order`;
  const parts = body.parts;
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS) {
    throw new ValidationError('parts', rule);
  }
  let previous = 0;
  return parts.map((part: unknown) => {
    const { partNumber, etag } = (part ?? {}) as Record<string, unknown>;
    const n = checkPartNumber(partNumber, 'parts');
    if (n <= previous || typeof etag !== 'string' || etag.length === 0 || etag.length > 1024) {
      throw new ValidationError('parts', rule);
    }
    previous = n;
    return { partNumber: n, etag };
  });
}

async function completeUpload(request: AuthedRequest, t: Target): Promise<Response> {
  const id = uploadId(request);
  const token = uploadToken(request);
  const parts = parseParts(await readJsonObject(request, COMPLETE_BODY_LIMIT));
  const upload = t.binding.resumeMultipartUpload(t.key, id);
  // The binding's complete() has no condition, so this check and the completion can race
  // with another writer of the same key; the archive names carry a stamp and a run number,
  // which makes that a second writer of the very same backup.
  const existing = await t.binding.head(t.key);
  if (existing) {
    // This upload's own object: an earlier complete did the work and its answer was lost.
    if (token && existing.customMetadata?.[TOKEN_METADATA] === token) {
      return jsonResponse(
        { success: true, key: t.key, size: existing.size, etag: existing.etag, completed_before: true },
        200,
      );
    }
    await upload.abort().catch(() => undefined);
    throw exists(t);
  }
  const object = await upload.complete(parts).catch(uploadError(t, [10001]));
  if (t.sha256) await checkContentHash(t, object);
  return jsonResponse({ success: true, key: t.key, size: object.size, etag: object.etag }, 201);
}

/**
 * An LFS object's key is the SHA-256 of its bytes, and a backup skips a key that is taken: a
 * multipart upload (which R2 cannot check against a digest) is read back once and removed when
 * its bytes are not their oid, so no credential can plant bytes under an oid through the Worker.
 */
async function checkContentHash(t: Target, object: R2Object): Promise<void> {
  const actual = await sha256Of(t.binding, object);
  if (actual === null) throw exists(t); // replaced meanwhile: not this upload's object any more
  if (actual === t.sha256) return;
  await t.binding.delete(t.key);
  throw new HttpError(
    400,
    `The uploaded bytes of ${t.key} are not its oid (SHA-256 ${actual}); nothing was stored`,
    {
      field: 'parts',
    },
  );
}

async function abortUpload(request: AuthedRequest, t: Target): Promise<Response> {
  await t.binding
    .resumeMultipartUpload(t.key, uploadId(request))
    .abort()
    .catch(uploadError(t, [10001]));
  return jsonResponse({ success: true });
}

type UploadHandler = (request: AuthedRequest, t: Target) => Promise<Response>;

const ACTIONS: Record<string, Record<string, UploadHandler>> = {
  PUT: { '': putSingle, 'mpu-uploadpart': uploadPart },
  POST: { 'mpu-create': createUpload, 'mpu-complete': completeUpload },
  DELETE: { 'mpu-abort': abortUpload },
};

/** PUT/POST/DELETE /api/r2/buckets/:bucket/upload?key=K[&action=...] */
export async function upload(request: AuthedRequest, env: Env): Promise<Response> {
  const byAction = ACTIONS[request.method] ?? {};
  const action = queryParam(request.query, 'action') ?? '';
  const handler = byAction[action];
  if (!handler) {
    const allowed = Object.keys(byAction).map((a) => a || '(none)');
    throw new ValidationError('action', `must be one of ${allowed.join(', ')} for ${request.method}`);
  }
  return handler(request, target(request, env, uploadKey));
}

/**
 * GET /api/r2/buckets/:bucket/download?key=K: the object, streamed, as a file to save. A cut
 * restore resumes with `Range: bytes=N-` (206, the rest from byte N; 416 past the end) and
 * `If-Match` with the first answer's ETag (412 once the object was replaced). Other range
 * forms are ignored: the whole object, as HTTP allows.
 */
export async function download(request: AuthedRequest, env: Env): Promise<Response> {
  const t = target(request, env, downloadKey);
  const notFound = (): HttpError => new HttpError(404, `Object not found: ${t.key} in ${t.bucket}`);
  const offset = /^bytes=(\d+)-$/.exec(request.headers.get('range')?.trim() ?? '')?.[1];
  const ifMatch = request.headers.get('if-match');
  if (offset === undefined && ifMatch === null) {
    const object = await t.binding.get(t.key);
    if (!object) throw notFound();
    return new Response(object.body, { headers: objectHeaders(t.key, object, object.size) });
  }
  // Checked first, so that each refusal says which condition failed.
  const head = await t.binding.head(t.key);
  if (!head) throw notFound();
  const changed = (): HttpError =>
    new HttpError(
      412,
      `Object ${t.key} in ${t.bucket} is no longer the one asked for (If-Match ${ifMatch})`,
      {
        etag: head.httpEtag,
      },
    );
  if (ifMatch !== null && !etagListMatches(ifMatch, head.etag)) throw changed();
  const start = offset === undefined ? undefined : Number(offset);
  if (start !== undefined && start >= head.size) {
    throw new HttpError(
      416,
      `Range ${request.headers.get('range')} starts past the end of ${t.key} (${head.size} bytes)`,
      {},
      {
        'content-range': `bytes */${head.size}`,
      },
    );
  }
  // Pinned to the version just checked: a replacement in between answers 412, never its bytes.
  const object = await t.binding.get(t.key, {
    onlyIf: { etagMatches: head.etag },
    ...(start !== undefined && { range: { offset: start } }),
  });
  if (!object) throw notFound();
  if (!('body' in object)) throw changed();
  if (start === undefined) {
    return new Response(object.body, { headers: objectHeaders(t.key, object, object.size) });
  }
  return new Response(object.body, {
    status: 206,
    headers: {
      ...objectHeaders(t.key, object, object.size - start),
      'content-range': `bytes ${start}-${object.size - 1}/${object.size}`,
    },
  });
}

const objectHeaders = (key: string, object: R2Object, length: number): Record<string, string> => ({
  ...downloadHeaders(key),
  'content-length': String(length),
  'accept-ranges': 'bytes',
  etag: object.httpEtag,
});

/** If-Match's strong comparison: `*`, or one of the listed tags (weak ones never match). */
const etagListMatches = (header: string, etag: string): boolean =>
  header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === `"${etag}"`);
