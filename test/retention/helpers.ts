// Shared by the retention suites: stores a backup the way the action does (record, archive
// through the upload route, notification) and lists a bucket with awscli.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalStack } from '../../scripts/local-stack.js';
import { aws, COMMIT, readJson, s3Client, type Api } from '../worker/helpers.js';

export interface StoredBackup {
  backupFile: string;
  archiveKey: string;
  recordKey: string;
  notificationKey?: string;
}

export interface BackupSpec {
  tenant: string;
  bucket: string;
  backupFile: string;
  /** Archive contents; null: no archive (a run whose upload failed). */
  archive?: string | null;
  /** Recorded size; the archive's by default. */
  size?: number;
  notify?: boolean;
}

async function created(response: Response): Promise<Record<string, unknown>> {
  const body = await readJson(response);
  if (response.status !== 201)
    throw new Error(`expected 201, got ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

export async function storeBackup(api: Api, spec: BackupSpec): Promise<StoredBackup> {
  const { tenant, bucket, backupFile } = spec;
  const archive = spec.archive === undefined ? `archive of ${tenant}/${backupFile}` : spec.archive;
  const size = spec.size ?? (archive === null ? undefined : Buffer.byteLength(archive));
  const record = await created(
    await api.post('/api/github/backup', {
      tenant,
      bucket,
      repo: `acme/${tenant}`,
      branch: 'main',
      commit: COMMIT,
      backup_file: backupFile,
      action: 'upload',
      ...(size === undefined ? {} : { size }),
    }),
  );
  if (archive !== null) {
    await created(await api(record.upload_url as string, { method: 'PUT', body: archive }));
  }
  let notificationKey: string | undefined;
  if (spec.notify !== false) {
    const notification = await created(
      await api.post('/api/github/backup/notify', {
        tenant,
        bucket,
        repo: `acme/${tenant}`,
        branch: 'main',
        commit: COMMIT,
        status: 'success',
        backup_file: backupFile,
      }),
    );
    notificationKey = notification.key as string;
  }
  return {
    backupFile,
    archiveKey: `backups/${tenant}/${backupFile}`,
    recordKey: `backups/${tenant}/metadata/${backupFile}.json`,
    notificationKey,
  };
}

/** Runs `task` over `items`, `concurrency` at a time, results in order. */
export async function inBatches<T, R>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += concurrency) {
    results.push(...(await Promise.all(items.slice(i, i + concurrency).map(task))));
  }
  return results;
}

/** Plants an object directly through the S3 endpoint (what no Worker route writes). */
export async function plant(stack: LocalStack, bucket: string, key: string, body: string): Promise<void> {
  await s3Client(stack).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** The bucket's keys (with sizes), as awscli lists them. */
export async function keysOf(stack: LocalStack, bucket: string): Promise<string[]> {
  return (await aws(stack, 's3', 'ls', '--recursive', `s3://${bucket}/`))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.replace(/^\S+ \S+\s+\d+\s+/, ''))
    .sort();
}

/** The bucket's listing with sizes (without dates), to compare before and after. */
export async function snapshot(stack: LocalStack, bucket: string): Promise<string> {
  return (await aws(stack, 's3', 'ls', '--recursive', `s3://${bucket}/`))
    .split('\n')
    .map((line) => line.replace(/^\S+ \S+\s+/, ''))
    .sort()
    .join('\n');
}
