// The CLI's credentials and endpoints: a flag, else the environment variable of the same
// meaning. Flags show in `ps`, so the environment is the place for secrets.
import type { S3Client } from '@aws-sdk/client-s3';
import { checkedDefaultBucket } from '../common/naming.js';
import { checkBucket, checkTenant, ValidationError } from '../common/validate.js';
import type { ArchiveSource } from '../core/r2/object-source.js';
import type { RecordLister } from '../core/restore/backup.js';
import { listRecordsOverS3 } from '../core/r2/catalogue.js';
import { createS3Client } from '../core/r2/client.js';
import {
  resolveCredentials,
  type Credentials,
  type Setting as CredentialSetting,
  type TokenAuth,
} from '../core/r2/credentials.js';
import { WorkerClient } from '../core/worker-api/client.js';
import { Progress } from './progress.js';
import { UsageError } from './usage.js';

/** Each connection setting: its flags (the action's input name first, then the older CLI name
 *  kept as an alias) and its environment variable. */
const SETTINGS = {
  apiUrl: { flags: ['api-url'], variable: 'R2_BACKUP_API_URL' },
  apiToken: { flags: ['api-token'], variable: 'R2_BACKUP_API_TOKEN' },
  accountId: { flags: ['r2-account-id', 'account-id'], variable: 'R2_ACCOUNT_ID' },
  endpoint: { flags: ['r2-endpoint', 'endpoint'], variable: 'R2_ENDPOINT' },
  accessKeyId: { flags: ['r2-access-key-id', 'access-key-id'], variable: 'R2_ACCESS_KEY_ID' },
  secretAccessKey: { flags: ['r2-secret-access-key', 'secret-access-key'], variable: 'R2_SECRET_ACCESS_KEY' },
} as const;

export const CONNECTION_OPTIONS = {
  'api-url': { type: 'string' },
  'api-token': { type: 'string' },
  'r2-account-id': { type: 'string' },
  'account-id': { type: 'string' },
  'r2-endpoint': { type: 'string' },
  endpoint: { type: 'string' },
  'r2-access-key-id': { type: 'string' },
  'access-key-id': { type: 'string' },
  'r2-secret-access-key': { type: 'string' },
  'secret-access-key': { type: 'string' },
} as const;

export const TENANT_OPTIONS = {
  tenant: { type: 'string' },
  bucket: { type: 'string' },
} as const;

export const CONNECTION_HELP = `Connection (flag, or environment variable):
  --api-url URL                 R2_BACKUP_API_URL     the backup Worker
  --api-token TOKEN             R2_BACKUP_API_TOKEN   its admin token or a tenant token
  --r2-account-id ID            R2_ACCOUNT_ID         Cloudflare account (S3 endpoint https://ID.r2.cloudflarestorage.com)
  --r2-endpoint URL             R2_ENDPOINT           another S3 endpoint instead (a local stack)
  --r2-access-key-id KEY        R2_ACCESS_KEY_ID      R2 S3 keys: archives are read over S3 when given,
  --r2-secret-access-key KEY    R2_SECRET_ACCESS_KEY  else through the Worker's download route
  The action's input names; --account-id, --endpoint, --access-key-id and --secret-access-key
  are accepted as well.`;

type Values = Partial<Record<keyof typeof CONNECTION_OPTIONS | keyof typeof TENANT_OPTIONS, string>>;
type SettingNames = (typeof SETTINGS)[keyof typeof SETTINGS];

/** The flag given, else the environment variable; named in messages by all its names
 *  (`--r2-endpoint / --endpoint / R2_ENDPOINT`). */
function setting(values: Values, { flags, variable }: SettingNames): CredentialSetting {
  const given = flags.filter((flag) => values[flag]);
  if (given.length > 1)
    throw new UsageError(`${given.map((f) => `--${f}`).join(' and ')} are one setting: give one`);
  return {
    value: given.length > 0 ? values[given[0]!] : process.env[variable],
    name: [...flags.map((flag) => `--${flag}`), variable].join(' / '),
  };
}

export interface Connection {
  worker?: WorkerClient;
  s3?: S3Client;
}

/** The Worker and R2 connections the flags and environment describe, by the rules the actions
 *  use too (core/r2/credentials.ts); a setting at fault is a usage error naming it. */
export function connect(values: Values): Connection {
  let credentials: Credentials<TokenAuth>;
  try {
    credentials = resolveCredentials({
      apiUrl: setting(values, SETTINGS.apiUrl),
      apiToken: setting(values, SETTINGS.apiToken),
      accountId: setting(values, SETTINGS.accountId),
      endpoint: setting(values, SETTINGS.endpoint),
      accessKeyId: setting(values, SETTINGS.accessKeyId),
      secretAccessKey: setting(values, SETTINGS.secretAccessKey),
    });
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message);
    throw error;
  }
  const { worker, s3 } = credentials;
  return {
    ...(worker && { worker: new WorkerClient(worker.url, worker.auth.token) }),
    ...(s3 && { s3: createS3Client(s3) }),
  };
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
    return async () => {
      const progress = new Progress({ label: `${command}: records read over S3`, unit: { noun: 'records' } });
      try {
        return await listRecordsOverS3(s3, bucket, tenant, (done, total) => progress.update({ done, total }));
      } finally {
        progress.stop();
      }
    };
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

/** The environment variable that stands for --tenant, as restic's RESTIC_REPOSITORY does. */
export const TENANT_VARIABLE = 'R2_BACKUP_TENANT';

/** --tenant (required: the flag, else R2_BACKUP_TENANT) and --bucket (default
 *  `{tenant}-github-backup`, as the action's: common/naming.ts defaultBucket). */
export function tenantAndBucket(values: Values): { tenant: string; bucket: string } {
  const given = values.tenant ?? process.env[TENANT_VARIABLE];
  if (!given) throw new UsageError(`--tenant (or ${TENANT_VARIABLE}) is required`);
  try {
    const tenant = checkTenant(given, values.tenant === undefined ? TENANT_VARIABLE : '--tenant');
    const bucket =
      values.bucket !== undefined
        ? checkBucket(values.bucket, '--bucket')
        : checkedDefaultBucket(tenant, '--bucket', 'give --bucket, or a --tenant that makes a valid name');
    return { tenant, bucket };
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message);
    throw error;
  }
}
