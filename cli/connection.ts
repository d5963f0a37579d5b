// The CLI's credentials and endpoints: a flag, else the environment variable of the same
// meaning. Flags show in `ps`, so the environment is the place for secrets.
import type { S3Client } from '@aws-sdk/client-s3';
import { defaultBucket } from '../common/naming.js';
import { checkBucket, checkHttpUrl, checkTenant, ValidationError } from '../common/validate.js';
import type { ArchiveSource } from '../core/r2/object-source.js';
import type { RecordLister } from '../core/restore/backup.js';
import { listRecordsOverS3 } from '../core/r2/catalogue.js';
import { createS3Client } from '../core/r2/client.js';
import { WorkerClient } from '../core/worker-api/client.js';
import { UsageError } from './usage.js';

export const CONNECTION_OPTIONS = {
  'api-url': { type: 'string' },
  'api-token': { type: 'string' },
  'account-id': { type: 'string' },
  endpoint: { type: 'string' },
  'access-key-id': { type: 'string' },
  'secret-access-key': { type: 'string' },
} as const;

export const TENANT_OPTIONS = {
  tenant: { type: 'string' },
  bucket: { type: 'string' },
} as const;

export const CONNECTION_HELP = `Connection (flag, or environment variable):
  --api-url URL            R2_BACKUP_API_URL     the backup Worker
  --api-token TOKEN        R2_BACKUP_API_TOKEN   its admin token or a tenant token
  --account-id ID          R2_ACCOUNT_ID         Cloudflare account (S3 endpoint https://ID.r2.cloudflarestorage.com)
  --endpoint URL           R2_ENDPOINT           another S3 endpoint instead (a local stack)
  --access-key-id KEY      R2_ACCESS_KEY_ID      R2 S3 keys: archives are read over S3 when given,
  --secret-access-key KEY  R2_SECRET_ACCESS_KEY  else through the Worker's download route`;

type Values = Partial<Record<keyof typeof CONNECTION_OPTIONS | keyof typeof TENANT_OPTIONS, string>>;

const setting = (
  values: Values,
  flag: keyof typeof CONNECTION_OPTIONS,
  variable: string,
): string | undefined => values[flag] || process.env[variable] || undefined;

/** A URL setting, checked like the action's URL inputs (common/validate.ts checkHttpUrl): one
 *  with credentials in it is refused, naming the flag and variable, never quoting the value. */
function urlSetting(values: Values, flag: 'api-url' | 'endpoint', variable: string): string | undefined {
  const value = setting(values, flag, variable);
  if (value === undefined) return undefined;
  try {
    return checkHttpUrl(value, `--${flag} / ${variable}`).replace(/\/+$/, '');
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message);
    throw error;
  }
}

export interface Connection {
  worker?: WorkerClient;
  s3?: S3Client;
}

export function connect(values: Values): Connection {
  // URLs first: one with credentials in it stops the command before any other message.
  const apiUrl = urlSetting(values, 'api-url', 'R2_BACKUP_API_URL');
  const endpoint = urlSetting(values, 'endpoint', 'R2_ENDPOINT');
  const apiToken = setting(values, 'api-token', 'R2_BACKUP_API_TOKEN');
  const accountId = setting(values, 'account-id', 'R2_ACCOUNT_ID');
  const accessKeyId = setting(values, 'access-key-id', 'R2_ACCESS_KEY_ID');
  const secretAccessKey = setting(values, 'secret-access-key', 'R2_SECRET_ACCESS_KEY');
  if (apiUrl && !apiToken)
    throw new UsageError('--api-url needs a token: --api-token or R2_BACKUP_API_TOKEN');
  const connection: Connection = {};
  if (apiUrl && apiToken) {
    connection.worker = new WorkerClient(apiUrl, apiToken);
  }
  if (accessKeyId || secretAccessKey) {
    if (!accessKeyId || !secretAccessKey) {
      throw new UsageError('S3 keys come in pairs: R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY (or the flags)');
    }
    if (!endpoint && !/^[0-9a-f]{32}$/i.test(accountId ?? '')) {
      throw new UsageError(
        'S3 keys need R2_ACCOUNT_ID (32 hexadecimal characters) or R2_ENDPOINT (or the flags)',
      );
    }
    const url = endpoint ?? `https://${accountId!.toLowerCase()}.r2.cloudflarestorage.com`;
    connection.s3 = createS3Client({ endpoint: url, accessKeyId, secretAccessKey });
  }
  return connection;
}

/** Records from the Worker, else straight from R2 over S3 (restore with R2 keys alone). */
export function recordLister(
  connection: Connection,
  tenant: string,
  bucket: string,
  command: string,
): RecordLister {
  if (connection.worker) {
    const worker = connection.worker;
    return () => worker.listAll(tenant, bucket);
  }
  if (connection.s3) {
    const s3 = connection.s3;
    return () => listRecordsOverS3(s3, bucket, tenant);
  }
  throw new UsageError(
    `${command} needs the Worker (R2_BACKUP_API_URL, R2_BACKUP_API_TOKEN) or R2's S3 keys (R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY with R2_ACCOUNT_ID or R2_ENDPOINT)`,
  );
}

/** The Worker keeps the catalogue (records, inventory, prune): commands that read it need it. */
export function requireWorker(connection: Connection, command: string): WorkerClient {
  if (connection.worker) return connection.worker;
  throw new UsageError(
    `${command} needs the Worker: set R2_BACKUP_API_URL and R2_BACKUP_API_TOKEN (or --api-url, --api-token)`,
  );
}

export function archiveSource(connection: Connection, command: string): ArchiveSource {
  if (connection.s3) return { kind: 's3', s3: connection.s3 };
  return { kind: 'worker', worker: requireWorker(connection, command) };
}

/** --tenant (required) and --bucket (default `{tenant}-github-backup`, as the action's:
 *  common/naming.ts defaultBucket). */
export function tenantAndBucket(values: Values): { tenant: string; bucket: string } {
  if (!values.tenant) throw new UsageError('--tenant is required');
  try {
    const tenant = checkTenant(values.tenant, '--tenant');
    return { tenant, bucket: checkBucket(values.bucket ?? defaultBucket(tenant), '--bucket') };
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message);
    throw error;
  }
}
