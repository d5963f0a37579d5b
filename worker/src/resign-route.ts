// POST /api/github/backup/resign: after RECORD_SIGNING_KEY was rotated (the old key kept as
// RECORD_SIGNING_KEY_PREVIOUS), re-sign the records the previous key signed, so the previous
// key can then be dropped. Only records that verify are re-signed: an unsigned or tampered
// record is never laundered into a verified one. Admin only (every tenant of the bucket), and
// each rewrite is conditional on the object being unchanged since it was read.
import type { BackupMetadata } from '../../common/metadata.js';
import { metadataKey } from '../../common/naming.js';
import { ValidationError, checkBucket, checkTenant } from '../../common/validate.js';
import { authorize } from './access.js';
import type { AuthedRequest } from './auth.js';
import { bucketBinding, bucketName } from './buckets.js';
import type { Env } from './env.js';
import { jsonResponse } from './http.js';
import { readJsonObject } from './json-body.js';
import { listScope } from './listing.js';
import { signRecord, verificationOf } from './record-signature.js';
import { inRecordOrder, summaryOf } from './record-summary.js';

export async function resignRecords(request: AuthedRequest, env: Env): Promise<Response> {
  const body = await readJsonObject(request);
  for (const field of Object.keys(body)) {
    if (field !== 'bucket' && field !== 'tenant') throw new ValidationError(field, 'is not a known field');
  }
  const bucket = bucketName(env, body.bucket === undefined ? undefined : checkBucket(body.bucket));
  const tenant = body.tenant === undefined ? null : checkTenant(body.tenant);
  // Rewriting records is an operator's job: every tenant's credential, not one tenant's.
  authorize(request.principal, null, bucket);
  const binding = bucketBinding(env, bucket);

  const counts = { resigned: 0, current: 0, unsigned: 0, tampered: 0, changed_meanwhile: 0 };
  for (const { tenant: owner, backupFile } of await listScope(binding, { tenant, bucket })) {
    const key = metadataKey(owner, backupFile);
    const object = await binding.get(key);
    if (!object) continue;
    let record: BackupMetadata;
    try {
      record = inRecordOrder((await object.json()) as Record<string, unknown>);
    } catch {
      counts.tampered++;
      continue;
    }
    const place = { tenant: owner, bucket, backupFile };
    const { verification, previousKey } = await verificationOf(env, record, place);
    if (verification !== 'verified') {
      counts[verification]++;
      continue;
    }
    if (!previousKey) {
      counts.current++;
      continue;
    }
    const resigned = { ...record, signature: await signRecord(env, record, place) };
    const stored = await binding.put(key, JSON.stringify(resigned, null, 2), {
      onlyIf: { etagMatches: object.etag },
      httpMetadata: { contentType: 'application/json' },
      customMetadata: summaryOf(resigned),
    });
    if (stored) counts.resigned++;
    else counts.changed_meanwhile++;
  }
  return jsonResponse({ success: true, bucket, tenant, ...counts });
}
