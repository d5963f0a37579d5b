// DELETE /api/github/backup/:tenant/:backup_file[?bucket=B]: delete one backup completely
// (archive, siblings, notifications, record last). Needs the maintain role; never the tenant's
// newest backup; refused while MIN_RETENTION_DAYS locks it, whoever asks.
import { checkBackupFile, checkBucket, checkTenant } from '../../common/validate.js';
import { authorizeDeletion } from './access.js';
import type { AuthedRequest } from './auth.js';
import { bucketBinding, bucketName } from './buckets.js';
import type { Env } from './env.js';
import { jsonResponse, pathParam, queryParam } from './http.js';
import { deleteBackup } from './prune.js';
import { parseRetentionLock } from './retention-lock.js';

export async function deleteOneBackup(request: AuthedRequest, env: Env): Promise<Response> {
  const tenant = checkTenant(pathParam(request.params, 'tenant'), 'tenant');
  const backupFile = pathParam(request.params, 'backup_file');
  checkBackupFile(backupFile, tenant);
  const bucketParam = queryParam(request.query, 'bucket');
  const bucket = bucketName(env, bucketParam === undefined ? undefined : checkBucket(bucketParam));
  authorizeDeletion(request.principal, tenant, bucket, 'deleting a backup');
  const lockDays = parseRetentionLock(env.MIN_RETENTION_DAYS)(tenant);
  const deleted = await deleteBackup(bucketBinding(env, bucket), bucket, tenant, backupFile, lockDays);
  return jsonResponse({ success: true, tenant, bucket, backup_file: backupFile, keys: deleted.keys });
}
