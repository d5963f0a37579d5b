// GET /api/github/backup/tenants: the tenants of a bucket, a page per R2 listing of the
// `backups/` folders (no read per tenant or record), with a signed cursor for the next page.
// A scoped credential sees only its own tenants, in a bucket it may use (a credential of one
// bucket needs no `bucket` parameter). GET /api/github/backup/tenants/:tenant/summary: one
// tenant at a glance (tenant-summary.ts), for the tenants the credential may read.
import { checkTenant, ValidationError } from '../../common/validate.js';
import type { AuthedRequest } from './auth.js';
import { bucketBinding, bucketName } from './buckets.js';
import { decodeCursor, encodeCursor, type CursorScope } from './cursor.js';
import type { Env } from './env.js';
import { HttpError, jsonResponse, queryParam } from './http.js';
import { recordScope } from './listing.js';
import { retentionInForce } from './retention-config.js';
import { readNotification, summarizeTenant } from './tenant-summary.js';
import { scanTenant } from './tenant-objects.js';

export const DEFAULT_TENANTS_LIMIT = 100;
export const MAX_TENANTS_LIMIT = 1000;

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TENANTS_LIMIT;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_TENANTS_LIMIT) {
    throw new ValidationError('limit', `must be an integer from 1 to ${MAX_TENANTS_LIMIT}`);
  }
  return limit;
}

/** The bucket asked for; without one, a credential's only bucket, else the default bucket. */
function requestedBucket(request: AuthedRequest, env: Env): string {
  const asked = queryParam(request.query, 'bucket');
  const { buckets } = request.principal;
  if (asked === undefined && buckets !== '*' && buckets.length === 1) return bucketName(env, buckets[0]);
  return bucketName(env, asked);
}

export async function listTenantsPage(request: AuthedRequest, env: Env): Promise<Response> {
  const bucket = requestedBucket(request, env);
  const { principal } = request;
  if (principal.buckets !== '*' && !principal.buckets.includes(bucket)) {
    throw new HttpError(403, 'Forbidden', { reason: `not allowed to use bucket ${bucket}` });
  }
  const limit = parseLimit(queryParam(request.query, 'limit'));
  const binding = bucketBinding(env, bucket);
  // The cursor is R2's own, signed and bound to this bucket's tenant listing.
  const scope: CursorScope = { bucket, tenant: null };
  const secret = env.CLOUDCONNECT ?? '';
  const cursorParam = queryParam(request.query, 'cursor');
  const r2Cursor = cursorParam === undefined ? undefined : await decodeCursor(secret, scope, cursorParam);

  const page = await binding.list({ prefix: 'backups/', delimiter: '/', cursor: r2Cursor, limit });
  const tenants: string[] = [];
  for (const prefix of page.delimitedPrefixes) {
    let tenant: string;
    try {
      tenant = checkTenant(prefix.slice('backups/'.length, -1));
    } catch {
      continue; // a folder this Worker never writes
    }
    if (principal.tenants === '*' || principal.tenants.includes(tenant)) tenants.push(tenant);
  }
  return jsonResponse({
    success: true,
    bucket,
    tenants: tenants.map((tenant) => ({
      tenant,
      summary: `/api/github/backup/tenants/${encodeURIComponent(tenant)}/summary?bucket=${bucket}`,
    })),
    count: tenants.length,
    ...(page.truncated ? { cursor: await encodeCursor(secret, scope, page.cursor) } : {}),
  });
}

/** As the tenants list: a credential of one bucket needs no `bucket` parameter. */
function tenantScope(request: AuthedRequest, env: Env): ReturnType<typeof recordScope> {
  if (queryParam(request.query, 'bucket') === undefined) {
    const { buckets } = request.principal;
    if (buckets !== '*' && buckets.length === 1) request.query.bucket = buckets[0];
  }
  return recordScope(request, env); // authorizes
}

export const MAX_NOTIFICATIONS = 100;

/** GET /api/github/backup/tenants/:tenant/notifications?limit=N: the newest N (default 20, at
 *  most 100) notifications, runs' and drills', newest first: one listing and N small reads. */
export async function getTenantNotifications(request: AuthedRequest, env: Env): Promise<Response> {
  const { tenant, bucket, binding } = tenantScope(request, env);
  const raw = queryParam(request.query, 'limit');
  const limit = raw === undefined ? 20 : Number(raw);
  if (raw !== undefined && (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_NOTIFICATIONS)) {
    throw new ValidationError('limit', `must be an integer from 1 to ${MAX_NOTIFICATIONS}`);
  }
  const objects = await scanTenant(binding, bucket, tenant);
  const newest = [...objects.notificationUploaded.entries()]
    .sort((a, b) => b[1].getTime() - a[1].getTime())
    .slice(0, limit);
  const bodies = await Promise.all(newest.map(([name]) => readNotification(binding, tenant, name)));
  const notifications = bodies.flatMap((n, i) =>
    n === null
      ? []
      : [
          {
            name: newest[i]![0],
            stored_at: n.stored_at,
            status: n.status,
            kind: n.kind ?? 'run',
            backup_file: n.backup_file ?? null,
            message: n.message ?? null,
            run_url: n.run_url ?? null,
          },
        ],
  );
  return jsonResponse({ success: true, tenant, bucket, notifications, count: notifications.length });
}

export async function getTenantSummary(request: AuthedRequest, env: Env): Promise<Response> {
  const { tenant, bucket, binding } = tenantScope(request, env);
  // The retention in force is added here, not in summarizeTenant: the cron's alarms use that,
  // and must not stop when RETENTION_POLICIES is broken.
  return jsonResponse({
    success: true,
    ...(await summarizeTenant(env, binding, bucket, tenant)),
    retention: retentionInForce(env, bucket, tenant),
  });
}
