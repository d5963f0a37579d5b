// The backup Worker's routes. Each handler lives in a module with one job; authentication
// runs once for everything under /api/ except health.
import { AutoRouter, type IRequest } from 'itty-router';
import { withPrincipal, type AuthedRequest } from './auth.js';
import type { Env } from './env.js';
import { deleteOneBackup } from './delete-route.js';
import { handleError, methodNotAllowed, notFound } from './http.js';
import { getInventory } from './inventory.js';
import { getBackup, getLatestBackup, listBackups } from './listing.js';
import { pruneBackups } from './prune-route.js';
import { serveDashboard } from './dashboard.js';
import { createBackupRecord, createNotification } from './records.js';
import { resignRecords } from './resign-route.js';
import { scheduled } from './scheduled.js';
import { getTenantNotifications, getTenantSummary, listTenantsPage } from './tenants-route.js';
import { download, upload } from './uploads.js';

type Handler = (request: AuthedRequest, env: Env) => Promise<Response>;
const authed = (handler: Handler) => (request: IRequest, env: Env) => handler(request as AuthedRequest, env);

const router = AutoRouter<IRequest, [Env, ExecutionContext]>({ catch: handleError, missing: notFound });

router
  .get('/api/health', () => ({ success: true, status: 'ok' }))
  .all('/api/health', methodNotAllowed('GET'))

  .all('/api/*', withPrincipal)

  .post('/api/github/backup', authed(createBackupRecord))
  .post('/api/github/backup/notify', authed(createNotification))
  .get('/api/github/backup/list', authed(listBackups))
  .post('/api/github/backup/prune', authed(pruneBackups))
  .post('/api/github/backup/resign', authed(resignRecords))
  .get('/api/github/backup/tenants', authed(listTenantsPage))
  .get('/api/github/backup/tenants/:tenant/summary', authed(getTenantSummary))
  .get('/api/github/backup/tenants/:tenant/notifications', authed(getTenantNotifications))
  .get('/api/github/backup/:tenant/latest', authed(getLatestBackup))
  // Before /:tenant/:backup_file, which would take "inventory" for a file name.
  .get('/api/github/backup/:tenant/inventory', authed(getInventory))
  // Before DELETE /:tenant/:backup_file, which would take them for file names.
  .all('/api/github/backup/:tenant/latest', methodNotAllowed('GET'))
  .all('/api/github/backup/:tenant/inventory', methodNotAllowed('GET'))
  .get('/api/github/backup/:tenant/:backup_file', authed(getBackup))
  .delete('/api/github/backup/:tenant/:backup_file', authed(deleteOneBackup))

  .put('/api/r2/buckets/:bucket/upload', authed(upload))
  .post('/api/r2/buckets/:bucket/upload', authed(upload))
  .delete('/api/r2/buckets/:bucket/upload', authed(upload))
  .get('/api/r2/buckets/:bucket/download', authed(download))

  .all('/api/github/backup', methodNotAllowed('POST'))
  .all('/api/github/backup/notify', methodNotAllowed('POST'))
  .all('/api/github/backup/list', methodNotAllowed('GET'))
  .all('/api/github/backup/prune', methodNotAllowed('POST'))
  .all('/api/github/backup/resign', methodNotAllowed('POST'))
  .all('/api/github/backup/tenants', methodNotAllowed('GET'))
  .all('/api/github/backup/tenants/:tenant/summary', methodNotAllowed('GET'))
  .all('/api/github/backup/tenants/:tenant/notifications', methodNotAllowed('GET'))
  .all('/api/github/backup/:tenant/:backup_file', methodNotAllowed('GET', 'DELETE'))
  .all('/api/r2/buckets/:bucket/upload', methodNotAllowed('PUT', 'POST', 'DELETE'))
  .all('/api/r2/buckets/:bucket/download', methodNotAllowed('GET'))

  // Everything else is the dashboard's static files (worker/dashboard/).
  .get('*', (request: IRequest, env: Env) => serveDashboard(request as unknown as Request, env));

// HTTP requests go to the router; the cron trigger (wrangler.toml) applies retention.
export default { fetch: router.fetch, scheduled };
