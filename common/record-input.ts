// Parses the JSON bodies of `POST /api/github/backup` and `POST /api/github/backup/notify`
// into the shared record types. Every field is checked (400 naming the field and the rule);
// unknown fields are refused so a typo never silently drops data.
import type { BackupMetadataInput, BackupNotificationInput, NotificationStatus } from './metadata.js';
import {
  NOTIFICATION_KINDS,
  NOTIFICATION_STATUSES,
  RECORDED_BY,
  type NotificationKind,
  type RecordedBy,
} from './metadata.js';
import { archiveKey, bundleFileName, companionFileName } from './naming.js';
import {
  ValidationError,
  checkBackupFile,
  checkBranch,
  checkBucket,
  checkCommit,
  checkCompression,
  checkHttpUrl,
  checkRepo,
  checkSha256,
  checkTenant,
} from './validate.js';

type Body = Record<string, unknown>;

function checkPattern(value: unknown, field: string, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new ValidationError(field, rule);
  return value;
}

function checkCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(field, 'must be a non-negative integer');
  }
  return value;
}

/** The shared URL check (no credentials in it either), at most 512 characters in a record. */
const checkUrl = (value: unknown, field: string): string => checkHttpUrl(value, field, { maxLength: 512 });

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function checkTimestamp(value: unknown, field: string): string {
  const rule = 'must be an ISO 8601 date-time such as 2025-01-01T12:00:00Z';
  if (typeof value !== 'string' || !ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ValidationError(field, rule);
  }
  return value;
}

function checkExcludes(value: unknown, field: string): string[] {
  const rule = 'must be a list of at most 100 patterns, each 1-256 characters without control characters';
  if (!Array.isArray(value) || value.length > 100) throw new ValidationError(field, rule);
  for (const pattern of value) {
    // eslint-disable-next-line no-control-regex
    if (typeof pattern !== 'string' || !/^[^\x00-\x1f\x7f]{1,256}$/.test(pattern)) {
      throw new ValidationError(field, rule);
    }
  }
  return value as string[];
}

export const checkAction = (value: unknown, field = 'action'): string =>
  checkPattern(
    value,
    field,
    /^[a-z][a-z0-9_-]{0,31}$/,
    'must be 1-32 of a-z, 0-9, "_" or "-", starting with a letter',
  );

function checkStatus(value: unknown, field = 'status'): NotificationStatus {
  if (typeof value !== 'string' || !(NOTIFICATION_STATUSES as readonly string[]).includes(value)) {
    throw new ValidationError(field, `must be one of ${NOTIFICATION_STATUSES.join(', ')}`);
  }
  return value as NotificationStatus;
}

function refuseUnknown(body: Body, known: readonly string[]): void {
  for (const field of Object.keys(body)) {
    if (!known.includes(field)) throw new ValidationError(field, 'is not a known field');
  }
}

/** Required field: present and not null. */
function required(body: Body, field: string): unknown {
  if (body[field] === undefined || body[field] === null) throw new ValidationError(field, 'is required');
  return body[field];
}

/** Optional field: null counts as absent. */
const present = (body: Body, field: string): boolean => body[field] !== undefined && body[field] !== null;

export const METADATA_FIELDS = [
  'tenant',
  'bucket',
  'repo',
  'branch',
  'commit',
  'backup_file',
  'action',
  'key',
  'size',
  'sha256',
  'compression',
  'file_count',
  'excludes',
  'created_at',
  'event',
  'actor',
  'run_id',
  'run_url',
  'duration_ms',
  'action_version',
  'bundle_key',
  'bundle_size',
  'bundle_sha256',
  'bundle_shallow',
  'meta_key',
  'meta_size',
  'meta_sha256',
  'meta_counts',
  'meta_partial',
  'wiki_key',
  'wiki_size',
  'wiki_sha256',
  'lfs_key',
  'lfs_size',
  'lfs_sha256',
  'lfs_count',
  'lfs_bytes',
  'encrypted',
  'recipients',
  'recorded_by',
] as const;

/**
 * The metadata body. `bucket` may be omitted (the caller fills in its default), so the
 * result's bucket is `undefined` then.
 */
export function parseBackupMetadataInput(
  body: Body,
): Omit<BackupMetadataInput, 'bucket'> & { bucket: string | undefined } {
  refuseUnknown(body, METADATA_FIELDS);
  const tenant = checkTenant(required(body, 'tenant'));
  const backupFile = required(body, 'backup_file');
  const file = checkBackupFile(backupFile, tenant);
  const input: Omit<BackupMetadataInput, 'bucket'> & { bucket: string | undefined } = {
    tenant,
    bucket: present(body, 'bucket') ? checkBucket(body.bucket) : undefined,
    repo: checkRepo(required(body, 'repo')),
    branch: checkBranch(required(body, 'branch')),
    commit: checkCommit(required(body, 'commit')),
    backup_file: backupFile as string,
    action: checkAction(required(body, 'action')),
  };
  if (present(body, 'key')) {
    const expected = archiveKey(tenant, input.backup_file);
    if (body.key !== expected) throw new ValidationError('key', `must be "${expected}" (the archive's key)`);
    input.key = expected;
  }
  if (present(body, 'size')) input.size = checkCount(body.size, 'size');
  if (present(body, 'sha256')) input.sha256 = checkSha256(body.sha256);
  if (present(body, 'compression')) {
    input.compression = checkCompression(body.compression);
    if (input.compression !== file.compression) {
      throw new ValidationError('compression', `must match backup_file's extension (${file.compression})`);
    }
  }
  if (present(body, 'file_count')) input.file_count = checkCount(body.file_count, 'file_count');
  if (present(body, 'excludes')) input.excludes = checkExcludes(body.excludes, 'excludes');
  if (present(body, 'created_at')) input.created_at = checkTimestamp(body.created_at, 'created_at');
  if (present(body, 'event')) {
    input.event = checkPattern(body.event, 'event', /^[a-z_]{1,64}$/, 'must be 1-64 of a-z or "_"');
  }
  if (present(body, 'actor')) {
    input.actor = checkPattern(
      body.actor,
      'actor',
      /^[A-Za-z0-9_.[\]-]{1,100}$/,
      'must be 1-100 of A-Z, a-z, 0-9, "_", ".", "-", "[" or "]"',
    );
  }
  if (present(body, 'run_id')) {
    input.run_id = checkPattern(
      body.run_id,
      'run_id',
      /^[A-Za-z0-9_.-]{1,64}$/,
      'must be 1-64 of A-Z, a-z, 0-9, "_", "." or "-"',
    );
  }
  if (present(body, 'run_url')) input.run_url = checkUrl(body.run_url, 'run_url');
  if (present(body, 'duration_ms')) input.duration_ms = checkCount(body.duration_ms, 'duration_ms');
  if (present(body, 'action_version')) {
    input.action_version = checkPattern(
      body.action_version,
      'action_version',
      /^[A-Za-z0-9_.+-]{1,64}$/,
      'must be 1-64 of A-Z, a-z, 0-9, "_", ".", "+" or "-"',
    );
  }
  if (present(body, 'recorded_by')) {
    if (!(RECORDED_BY as readonly unknown[]).includes(body.recorded_by))
      throw new ValidationError('recorded_by', `must be one of ${RECORDED_BY.join(', ')}`);
    input.recorded_by = body.recorded_by as RecordedBy;
  }
  parseBundleFields(body, input);
  parseCompanionFields(body, input);
  parseEncryptionFields(body, input, file.encrypted);
  return input;
}

/** At most this many recipients per archive (a team key, escrow keys, a few machines). */
export const MAX_RECIPIENTS = 20;
/** A recipient fingerprint: the first 16 hex digits of the SHA-256 of its `age1...` text. */
export const RECIPIENT_FINGERPRINT_RE = /^[0-9a-f]{16}$/;

/** `encrypted: true` with the recipients' fingerprints exactly when the name ends with `.age`. */
function parseEncryptionFields(body: Body, input: Omit<BackupMetadataInput, 'bucket'>, named: boolean): void {
  const encrypted = present(body, 'encrypted') ? body.encrypted : false;
  if (typeof encrypted !== 'boolean') throw new ValidationError('encrypted', 'must be true or false');
  if (encrypted !== named) {
    throw new ValidationError(
      'encrypted',
      named
        ? 'must be true for a backup_file ending with ".age"'
        : 'is true only for a backup_file ending with ".age"',
    );
  }
  if (!encrypted) {
    if (present(body, 'recipients'))
      throw new ValidationError('recipients', 'is given only with encrypted: true');
    return;
  }
  const rule = `must be 1-${MAX_RECIPIENTS} recipient fingerprints, each 16 lowercase hexadecimal characters`;
  const recipients = required(body, 'recipients');
  if (
    !Array.isArray(recipients) ||
    recipients.length === 0 ||
    recipients.length > MAX_RECIPIENTS ||
    recipients.some((r) => typeof r !== 'string' || !RECIPIENT_FINGERPRINT_RE.test(r))
  ) {
    throw new ValidationError('recipients', rule);
  }
  input.encrypted = true;
  input.recipients = recipients as string[];
}

/** The bundle's fields: all three of key, size and SHA-256, or none. */
function parseBundleFields(body: Body, input: Omit<BackupMetadataInput, 'bucket'>): void {
  const given = ['bundle_key', 'bundle_size', 'bundle_sha256', 'bundle_shallow'].filter((f) =>
    present(body, f),
  );
  if (given.length === 0) return;
  const expected = archiveKey(input.tenant, bundleFileName(input.backup_file));
  if (body.bundle_key !== expected) {
    throw new ValidationError(
      'bundle_key',
      `must be "${expected}" (beside the archive), with bundle_size and bundle_sha256`,
    );
  }
  input.bundle_key = expected;
  input.bundle_size = checkCount(required(body, 'bundle_size'), 'bundle_size');
  input.bundle_sha256 = checkSha256(required(body, 'bundle_sha256'), 'bundle_sha256');
  if (present(body, 'bundle_shallow')) {
    if (typeof body.bundle_shallow !== 'boolean')
      throw new ValidationError('bundle_shallow', 'must be true or false');
    input.bundle_shallow = body.bundle_shallow;
  }
}

/** Kinds in meta_counts: a few names of a-z and "_" (the exporter's kinds, and `assets`). */
const MAX_COUNTED_KINDS = 16;

function checkCounts(value: unknown, field: string): Record<string, number> {
  const rule = `must be an object of at most ${MAX_COUNTED_KINDS} kinds (1-32 of a-z or "_") to non-negative integers`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError(field, rule);
  const entries = Object.entries(value);
  if (entries.length > MAX_COUNTED_KINDS || entries.some(([kind]) => !/^[a-z_]{1,32}$/.test(kind)))
    throw new ValidationError(field, rule);
  for (const [kind, count] of entries) checkCount(count, `${field}.${kind}`);
  return Object.fromEntries(entries) as Record<string, number>;
}

function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(field, 'must be true or false');
  return value;
}

/**
 * The metadata export's, the wiki bundle's and the LFS list's fields: for each, key, size and
 * SHA-256 together or none, the key beside the archive (named from backup_file, never chosen).
 */
function parseCompanionFields(body: Body, input: Omit<BackupMetadataInput, 'bucket'>): void {
  const parts = { meta: ['meta_counts', 'meta_partial'], wiki: [], lfs: ['lfs_count', 'lfs_bytes'] } as const;
  for (const [kind, extras] of Object.entries(parts) as [keyof typeof parts, readonly string[]][]) {
    const [keyField, sizeField, shaField] = [`${kind}_key`, `${kind}_size`, `${kind}_sha256`] as const;
    if (![keyField, sizeField, shaField, ...extras].some((field) => present(body, field))) continue;
    const expected = archiveKey(input.tenant, companionFileName(input.backup_file, kind));
    if (body[keyField] !== expected) {
      throw new ValidationError(
        keyField,
        `must be "${expected}" (beside the archive), with ${sizeField} and ${shaField}`,
      );
    }
    input[keyField] = expected;
    input[sizeField] = checkCount(required(body, sizeField), sizeField);
    input[shaField] = checkSha256(required(body, shaField), shaField);
  }
  if (present(body, 'meta_counts')) input.meta_counts = checkCounts(body.meta_counts, 'meta_counts');
  if (present(body, 'meta_partial')) input.meta_partial = checkBoolean(body.meta_partial, 'meta_partial');
  if (present(body, 'lfs_count')) input.lfs_count = checkCount(body.lfs_count, 'lfs_count');
  if (present(body, 'lfs_bytes')) input.lfs_bytes = checkCount(body.lfs_bytes, 'lfs_bytes');
}

const NOTIFICATION_FIELDS = [
  'tenant',
  'bucket',
  'repo',
  'branch',
  'commit',
  'status',
  'backup_file',
  'message',
  'run_url',
  'kind',
] as const;

/** The notification body; `bucket` may be omitted as for metadata. */
export function parseNotificationInput(
  body: Body,
): Omit<BackupNotificationInput, 'bucket'> & { bucket: string | undefined } {
  refuseUnknown(body, NOTIFICATION_FIELDS);
  const tenant = checkTenant(required(body, 'tenant'));
  const input: Omit<BackupNotificationInput, 'bucket'> & { bucket: string | undefined } = {
    tenant,
    bucket: present(body, 'bucket') ? checkBucket(body.bucket) : undefined,
    repo: checkRepo(required(body, 'repo')),
    branch: checkBranch(required(body, 'branch')),
    commit: checkCommit(required(body, 'commit')),
    status: checkStatus(required(body, 'status')),
  };
  if (present(body, 'backup_file')) {
    checkBackupFile(body.backup_file, tenant);
    input.backup_file = body.backup_file as string;
  }
  if (present(body, 'message')) {
    input.message = checkPattern(
      body.message,
      'message',
      // eslint-disable-next-line no-control-regex
      /^[^\x00-\x09\x0b-\x1f\x7f]{1,2000}$/,
      'must be 1-2000 characters without control characters other than newline',
    );
  }
  if (present(body, 'run_url')) input.run_url = checkUrl(body.run_url, 'run_url');
  if (present(body, 'kind')) {
    if (!(NOTIFICATION_KINDS as readonly unknown[]).includes(body.kind)) {
      throw new ValidationError(
        'kind',
        `must be one of ${NOTIFICATION_KINDS.join(', ')} (or absent for a backup run)`,
      );
    }
    input.kind = body.kind as NotificationKind;
  }
  return input;
}
