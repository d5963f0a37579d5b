// Writing the two kinds of record: backup metadata and status notifications. Neither is
// ever overwritten: R2's conditional put (If-None-Match: *) makes "create only" atomic.
import type { BackupMetadata, BackupMetadataInput, BackupNotification } from '../../common/metadata.js';
import { archiveKey, metadataKey, notificationKey } from '../../common/naming.js';
import { parseBackupMetadataInput, parseNotificationInput } from '../../common/record-input.js';
import { authorize } from './access.js';
import type { AuthedRequest } from './auth.js';
import { bucketBinding, bucketName } from './buckets.js';
import type { Env } from './env.js';
import { HttpError, jsonResponse } from './http.js';
import { readJsonObject } from './json-body.js';
import { notificationName } from './notification-names.js';
import { signRecord } from './record-signature.js';
import { inRecordOrder, summaryOf } from './record-summary.js';
import { retainAfterRecord } from './retention-after-record.js';
import { forwardNotification } from './webhook.js';

const createOnly = (): Headers => new Headers({ 'if-none-match': '*' });
const jsonMetadata = { contentType: 'application/json' };

/** Stores a checked record, signed, never over an existing one (null then): the one way every
 *  record is written, by the record route and by the cron's repair (repair.ts). */
export async function storeSignedRecord(
  env: Env,
  binding: R2Bucket,
  bucket: string,
  input: Omit<BackupMetadataInput, 'bucket'>,
  principal: string,
): Promise<BackupMetadata | null> {
  const unsigned = inRecordOrder({
    ...input,
    bucket,
    key: archiveKey(input.tenant, input.backup_file),
    stored_at: new Date().toISOString(),
    principal,
  });
  const place = { tenant: input.tenant, bucket, backupFile: input.backup_file };
  const record = { ...unsigned, signature: await signRecord(env, unsigned, place) };
  const stored = await binding.put(
    metadataKey(input.tenant, input.backup_file),
    JSON.stringify(record, null, 2),
    {
      onlyIf: createOnly(),
      httpMetadata: jsonMetadata,
      customMetadata: summaryOf(record),
    },
  );
  return stored ? record : null;
}

export async function createBackupRecord(request: AuthedRequest, env: Env): Promise<Response> {
  const input = parseBackupMetadataInput(await readJsonObject(request));
  const bucket = bucketName(env, input.bucket);
  authorize(request.principal, input.tenant, bucket);
  const binding = bucketBinding(env, bucket);

  const key = archiveKey(input.tenant, input.backup_file);
  const record = await storeSignedRecord(env, binding, bucket, input, request.principal.name);
  if (!record) {
    throw new HttpError(
      409,
      `Backup metadata for ${input.tenant}/${input.backup_file} already exists in ${bucket}; records are never overwritten`,
      { key: metadataKey(input.tenant, input.backup_file) },
    );
  }
  // The Worker's own RETENTION_POLICIES, never deleting this backup (retention-after-record.ts).
  const retention = await retainAfterRecord(
    env,
    binding,
    bucket,
    input.tenant,
    input.backup_file,
    input.duration_ms,
  );
  return jsonResponse(
    {
      success: true,
      message: 'Backup metadata stored',
      metadata: { ...record, verification: 'verified' },
      upload_url: `/api/r2/buckets/${bucket}/upload?key=${encodeURIComponent(key)}`,
      ...(retention ? { retention } : {}),
    },
    201,
  );
}

export async function createNotification(request: AuthedRequest, env: Env): Promise<Response> {
  const input = parseNotificationInput(await readJsonObject(request));
  const bucket = bucketName(env, input.bucket);
  authorize(request.principal, input.tenant, bucket);
  const binding = bucketBinding(env, bucket);

  const notification: BackupNotification = {
    ...input,
    bucket,
    stored_at: new Date().toISOString(),
    principal: request.principal.name,
  };
  // Named by the backup's file name (or the current stamp), plus a random suffix: two
  // notifications for the same backup (a retry, a failure then a success) both survive, and
  // prune finds exactly a backup's own (notification-names.ts).
  const now = new Date();
  let key: string | null = null;
  for (let attempt = 0; attempt < 5 && key === null; attempt++) {
    const candidate = notificationKey(input.tenant, notificationName(input.backup_file, now));
    const stored = await binding.put(candidate, JSON.stringify(notification, null, 2), {
      onlyIf: createOnly(),
      httpMetadata: jsonMetadata,
      // The kind in the listing: summaries find the last drill without reading every body.
      ...(input.kind ? { customMetadata: { kind: input.kind } } : {}),
    });
    if (stored) key = candidate;
  }
  if (key === null) throw new HttpError(409, 'Could not find a free notification key; try again');

  const webhook = await forwardNotification(env, notification);
  return jsonResponse({ success: true, message: 'Notification stored', notification, key, webhook }, 201);
}
