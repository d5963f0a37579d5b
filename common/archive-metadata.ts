// What an archive object says about itself in its custom metadata, so that a record can be
// rebuilt from a HEAD request (or the Worker's listing) when the run's own record never reached
// the Worker: core/r2/repair.ts, worker/src/repair.ts.
// Written by the upload (commit, branch, ... when it starts; a single PutObject, which knows its
// body first, also size and SHA-256: core/upload/s3-stream-upload.ts);
// read back as hostile input: every field passes the record rules any record passes.
import type { BackupMetadataInput } from './metadata.js';
import { archiveKey } from './naming.js';
import { parseBackupMetadataInput } from './record-input.js';
import { ValidationError } from './validate.js';

/** A completed archive this young may be a running backup's, whose own record is on its way:
 *  the repair leaves it (the Worker's REPAIR_AFTER_MINUTES sets another time for its cron). */
export const REPAIR_AFTER_MS = 5 * 60 * 1000;

/** The record fields an archive carries, and the metadata name each is stored under. */
export const ARCHIVE_METADATA = {
  repo: 'r2-backup-repo',
  branch: 'r2-backup-branch',
  commit: 'r2-backup-commit',
  compression: 'r2-backup-compression',
  created_at: 'r2-backup-created-at',
  event: 'r2-backup-event',
  actor: 'r2-backup-actor',
  run_id: 'r2-backup-run-id',
  run_url: 'r2-backup-run-url',
  action_version: 'r2-backup-action-version',
  size: 'r2-backup-size',
  sha256: 'r2-backup-sha256',
  /** Encrypted archives (`.age`): the recipients' fingerprints, comma-separated. */
  recipients: 'r2-backup-recipients',
} as const;

type ArchiveField = keyof typeof ARCHIVE_METADATA;
const NUMBER_FIELDS: readonly ArchiveField[] = ['size'];
/** Dropped first (in this order) when the metadata would not fit. */
const OPTIONAL_FIELDS: readonly ArchiveField[] = [
  'run_url',
  'actor',
  'event',
  'action_version',
  'created_at',
  'run_id',
];
/** The local simulator enforces 2 KiB of custom metadata (R2: 8 KiB); the upload's own token and
 *  the copy's fields need room too. */
const METADATA_BUDGET = 1500;

export type ArchiveFacts = Partial<Pick<BackupMetadataInput, ArchiveField>>;

/** Fields whose values are lists, written comma-separated. */
const LIST_FIELDS: readonly ArchiveField[] = ['recipients'];

/** The facts as S3 custom metadata: URI-encoded (headers carry ASCII only), within budget. */
export function archiveMetadata(facts: ArchiveFacts): Record<string, string> {
  const entries = new Map<ArchiveField, string>();
  for (const field of Object.keys(ARCHIVE_METADATA) as ArchiveField[]) {
    const value = facts[field];
    if (value !== undefined) entries.set(field, encodeURIComponent(String(value)));
  }
  const bytes = (): number =>
    [...entries].reduce((sum, [field, value]) => sum + ARCHIVE_METADATA[field].length + value.length, 0);
  for (const field of OPTIONAL_FIELDS) if (bytes() > METADATA_BUDGET) entries.delete(field);
  return Object.fromEntries([...entries].map(([field, value]) => [ARCHIVE_METADATA[field], value]));
}

/**
 * What a caller may ask the Worker's upload route to write as an object's metadata (mpu-create):
 * only these names, each value URI-encoded printable ASCII, within the budget. The values are
 * checked later, as hostile, by whoever rebuilds a record from them.
 */
export function checkArchiveMetadata(value: unknown, field: string): Record<string, string> {
  const names = new Set<string>(Object.values(ARCHIVE_METADATA));
  const rule = `must be an object of ${[...names].join(', ')} to URI-encoded text, at most ${METADATA_BUDGET} characters in all`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError(field, rule);
  let total = 0;
  for (const [name, text] of Object.entries(value)) {
    if (!names.has(name) || typeof text !== 'string' || !/^[\x21-\x7e]{1,512}$/.test(text)) {
      throw new ValidationError(field, rule);
    }
    total += name.length + text.length;
  }
  if (total > METADATA_BUDGET) throw new ValidationError(field, rule);
  return value as Record<string, string>;
}

/** Whether an object's metadata was written by this action's upload (it names a commit). */
export const hasArchiveMetadata = (metadata: Record<string, string> | undefined): boolean =>
  metadata?.[ARCHIVE_METADATA.commit] !== undefined;

/** Why a field of an object's metadata is refused: the metadata name and the rule. */
export class ArchiveMetadataError extends Error {
  constructor(backupFile: string, name: string, rule: string) {
    super(`${backupFile}: its object metadata ${name} ${rule}; not recorded`);
    this.name = 'ArchiveMetadataError';
  }
}

export interface StoredObject {
  /** The HEAD's Content-Length: what the record's size must equal. */
  size: number;
  metadata: Record<string, string>;
}

/**
 * The record of an unrecorded archive, rebuilt from its object's metadata, marked as repaired.
 * `sha256`, when given, was computed by reading the object (its metadata had none). Throws
 * ArchiveMetadataError naming the field at fault.
 */
export function recordFromArchive(
  tenant: string,
  bucket: string,
  backupFile: string,
  object: StoredObject,
  sha256?: string,
): BackupMetadataInput {
  const body: Record<string, unknown> = {};
  for (const [field, name] of Object.entries(ARCHIVE_METADATA) as [ArchiveField, string][]) {
    const raw = object.metadata[name];
    if (raw === undefined) continue;
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      throw new ArchiveMetadataError(backupFile, name, 'is not URI-encoded text');
    }
    if (LIST_FIELDS.includes(field)) {
      body[field] = value.split(',');
      if (field === 'recipients') body.encrypted = true;
    } else if (NUMBER_FIELDS.includes(field)) {
      if (!/^\d{1,15}$/.test(value))
        throw new ArchiveMetadataError(backupFile, name, 'must be a whole number');
      body[field] = Number(value);
    } else body[field] = value;
  }
  if (sha256 !== undefined) body.sha256 ??= sha256;
  for (const field of ['repo', 'branch', 'commit', 'sha256'] as const) {
    if (body[field] === undefined)
      throw new ArchiveMetadataError(backupFile, ARCHIVE_METADATA[field], 'is missing');
  }
  if (backupFile.endsWith('.age') !== (body.recipients !== undefined)) {
    throw new ArchiveMetadataError(
      backupFile,
      ARCHIVE_METADATA.recipients,
      body.recipients === undefined
        ? 'is missing, and the archive is an age file (.age)'
        : 'is given, but the archive is no age file (.age)',
    );
  }
  if (body.size !== undefined && body.size !== object.size) {
    throw new ArchiveMetadataError(
      backupFile,
      ARCHIVE_METADATA.size,
      `says ${String(body.size)} bytes, but the object holds ${object.size}`,
    );
  }
  try {
    const input = parseBackupMetadataInput({
      ...body,
      tenant,
      bucket,
      backup_file: backupFile,
      key: archiveKey(tenant, backupFile),
      action: 'upload',
      size: object.size,
      recorded_by: 'repair',
    });
    return { ...input, bucket };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const name = ARCHIVE_METADATA[error.field as ArchiveField] ?? error.field;
    throw new ArchiveMetadataError(backupFile, name, error.rule);
  }
}
