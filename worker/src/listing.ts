// Reading records: the list (newest first, paged by a signed cursor), the latest backup of a
// tenant, and one backup by name. One R2 listing per 1,000 records carries every answer:
// each metadata object holds its record in customMetadata (record-summary.ts).
//
// R2 lists keys in lexicographic order only, and the archive names do not sort by time
// (a tenant prefix is optional, "-2" sorts before ".tar", "-10" before "-2"), so a page is
// cut from the scope's records sorted by (stamp, run in that second). The cursor is the
// position of the last record returned, so records added meanwhile never shift a page.
import type { BackupMetadata } from '../../common/metadata.js';
import { metadataKey, positionOf, tenantPrefix } from '../../common/naming.js';
import { ValidationError, checkBackupFile, checkTenant } from '../../common/validate.js';
import { authorize } from './access.js';
import type { AuthedRequest } from './auth.js';
import { bucketBinding, bucketName } from './buckets.js';
import { decodeCursor, encodeCursor, type CursorScope } from './cursor.js';
import type { Env } from './env.js';
import { HttpError, jsonResponse, pathParam, queryParam } from './http.js';
import { vouched } from './record-signature.js';
import { retentionInForce } from './retention-config.js';
import { placeRecord, recordFromSummary } from './record-summary.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
// Parallel listings when every tenant is listed (Workers allow six open subrequests).
const TENANT_CONCURRENCY = 6;

export interface Listed {
  /** Sorts like time: stamp, then the run within that second, then a tie-break. */
  position: string;
  tenant: string;
  backupFile: string;
  record: BackupMetadata | null;
}

/** A listed metadata object (key under `prefix`, the tenant's metadata folder) as a record
 *  with its position; null for anything this Worker never writes there. */
export function listedRecord(
  object: R2Object,
  bucket: string,
  tenant: string,
  prefix: string,
): Listed | null {
  const name = object.key.slice(prefix.length);
  if (!name.endsWith('.json')) return null;
  const backupFile = name.slice(0, -'.json'.length);
  const position = positionOf(tenant, backupFile);
  if (position === null) return null;
  const record = recordFromSummary(object.customMetadata, { tenant, bucket, backupFile });
  return { position, tenant, backupFile, record };
}

async function listTenantRecords(binding: R2Bucket, bucket: string, tenant: string): Promise<Listed[]> {
  const prefix = `${tenantPrefix(tenant)}metadata/`;
  const found: Listed[] = [];
  let cursor: string | undefined;
  do {
    // With `include`, R2 may return fewer than `limit` objects while more remain.
    const page = await binding.list({ prefix, cursor, limit: 1000, include: ['customMetadata'] });
    for (const object of page.objects) {
      const listed = listedRecord(object, bucket, tenant, prefix);
      if (listed) found.push(listed);
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return found;
}

export async function listTenants(binding: R2Bucket): Promise<string[]> {
  const tenants: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await binding.list({ prefix: 'backups/', delimiter: '/', cursor, limit: 1000 });
    for (const prefix of page.delimitedPrefixes) {
      const tenant = prefix.slice('backups/'.length, -1);
      try {
        tenants.push(checkTenant(tenant));
      } catch {
        // a folder this Worker never writes
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return tenants;
}

export async function listScope(binding: R2Bucket, scope: CursorScope): Promise<Listed[]> {
  if (scope.tenant !== null) return listTenantRecords(binding, scope.bucket, scope.tenant);
  const tenants = await listTenants(binding);
  const results: Listed[][] = [];
  for (let i = 0; i < tenants.length; i += TENANT_CONCURRENCY) {
    const batch = tenants.slice(i, i + TENANT_CONCURRENCY);
    results.push(...(await Promise.all(batch.map((t) => listTenantRecords(binding, scope.bucket, t)))));
  }
  return results.flat();
}

export const newestFirst = (a: { position: string }, b: { position: string }): number =>
  a.position < b.position ? 1 : a.position > b.position ? -1 : 0;

/** A record whose summary did not fit in customMetadata (or that the seed's Worker wrote):
 *  read the object itself. Where it is stored says whose it is, whatever its body says. */
export async function readRecord(
  binding: R2Bucket,
  bucket: string,
  tenant: string,
  backupFile: string,
): Promise<BackupMetadata | null> {
  const object = await binding.get(metadataKey(tenant, backupFile));
  if (!object) return null;
  try {
    const body = (await object.json()) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    return placeRecord(body, { tenant, bucket, backupFile });
  } catch {
    console.warn(`unreadable metadata record ${metadataKey(tenant, backupFile)}`);
    return null;
  }
}

/** The records of listed metadata objects, each marked with whether the Worker signed it. */
export async function recordsOf(
  env: Env,
  binding: R2Bucket,
  bucket: string,
  listed: Listed[],
): Promise<(BackupMetadata | null)[]> {
  return Promise.all(
    listed.map(async ({ tenant, backupFile, record }) => {
      const found = record ?? (await readRecord(binding, bucket, tenant, backupFile));
      return found && vouched(env, found, { tenant, bucket, backupFile });
    }),
  );
}

const present = (records: (BackupMetadata | null)[]): BackupMetadata[] =>
  records.filter((r): r is BackupMetadata => r !== null);

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

export async function listBackups(request: AuthedRequest, env: Env): Promise<Response> {
  const tenantParam = queryParam(request.query, 'tenant');
  const scope: CursorScope = {
    tenant: tenantParam === undefined ? null : checkTenant(tenantParam),
    bucket: bucketName(env, queryParam(request.query, 'bucket')),
  };
  const limit = parseLimit(queryParam(request.query, 'limit'));
  const cursorParam = queryParam(request.query, 'cursor');
  authorize(request.principal, scope.tenant, scope.bucket);
  const binding = bucketBinding(env, scope.bucket);
  const secret = env.CLOUDCONNECT ?? '';
  const after = cursorParam === undefined ? null : await decodeCursor(secret, scope, cursorParam);

  const remaining = (await listScope(binding, scope))
    .filter((l) => after === null || l.position < after)
    .sort(newestFirst);
  const page = remaining.slice(0, limit);
  const backups = present(await recordsOf(env, binding, scope.bucket, page));
  const more = remaining.length > limit;
  return jsonResponse({
    success: true,
    tenant: scope.tenant,
    bucket: scope.bucket,
    backups,
    count: backups.length,
    ...(scope.tenant !== null ? { retention: retentionInForce(env, scope.bucket, scope.tenant) } : {}),
    ...(more ? { cursor: await encodeCursor(secret, scope, page[page.length - 1]!.position) } : {}),
  });
}

export function recordScope(
  request: AuthedRequest,
  env: Env,
): { tenant: string; bucket: string; binding: R2Bucket } {
  const tenant = checkTenant(pathParam(request.params, 'tenant'));
  const bucket = bucketName(env, queryParam(request.query, 'bucket'));
  authorize(request.principal, tenant, bucket);
  return { tenant, bucket, binding: bucketBinding(env, bucket) };
}

export async function getLatestBackup(request: AuthedRequest, env: Env): Promise<Response> {
  const { tenant, bucket, binding } = recordScope(request, env);
  const newest = (await listTenantRecords(binding, bucket, tenant)).sort(newestFirst)[0];
  const [metadata] = newest ? await recordsOf(env, binding, bucket, [newest]) : [];
  if (!metadata) throw new HttpError(404, `No backups for tenant ${tenant} in ${bucket}`);
  return jsonResponse({ success: true, metadata });
}

export async function getBackup(request: AuthedRequest, env: Env): Promise<Response> {
  const { tenant, bucket, binding } = recordScope(request, env);
  const backupFile = pathParam(request.params, 'backup_file');
  checkBackupFile(backupFile, tenant);
  const record = await readRecord(binding, bucket, tenant, backupFile);
  if (!record) throw new HttpError(404, `Backup not found: ${tenant}/${backupFile} in ${bucket}`);
  return jsonResponse({
    success: true,
    metadata: await vouched(env, record, { tenant, bucket, backupFile }),
  });
}
