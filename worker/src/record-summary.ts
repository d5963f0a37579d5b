// The list answer must come from one listing, without a read per record, so each metadata
// object carries its record in customMetadata. The fields the object's key already says
// (tenant, bucket, backup_file, key) are left out. R2 allows 8 KiB of custom metadata but the
// local simulator has enforced 2 KiB, so a record that does not fit stays without a summary
// and the listing reads that one object instead (rare: it takes very long optional fields).
import type { BackupMetadata } from '../../common/metadata.js';
import { METADATA_FIELDS } from '../../common/record-input.js';
import { archiveKey } from '../../common/naming.js';

const SUMMARY_FIELD = 'record';
export const SUMMARY_BUDGET = 2000;
const DERIVED = new Set(['tenant', 'bucket', 'backup_file', 'key']);
const FIELD_ORDER: readonly string[] = [
  ...METADATA_FIELDS,
  'stored_at',
  'principal',
  'signature',
  'verification',
];

/** Bytes as both R2 (UTF-8) and the simulator (2 per character when any is beyond Latin-1) count them. */
function metadataBytes(text: string): number {
  // eslint-disable-next-line no-control-regex
  const simulator = /[^\x00-\xff]/.test(text) ? text.length * 2 : text.length;
  return Math.max(simulator, new TextEncoder().encode(text).byteLength);
}

/** The custom metadata to store with a record; empty when the record does not fit. */
export function summaryOf(record: BackupMetadata): Record<string, string> {
  const rest = Object.fromEntries(Object.entries(record).filter(([field]) => !DERIVED.has(field)));
  const json = JSON.stringify(rest);
  return metadataBytes(SUMMARY_FIELD) + metadataBytes(json) <= SUMMARY_BUDGET
    ? { [SUMMARY_FIELD]: json }
    : {};
}

/** Fields in the order the record is written, so listed and fetched records read alike. */
export function inRecordOrder(record: Record<string, unknown>): BackupMetadata {
  const ordered = Object.fromEntries(
    FIELD_ORDER.filter((field) => record[field] !== undefined).map((field) => [field, record[field]]),
  );
  return ordered as unknown as BackupMetadata;
}

/** Where a record is stored, which says whose it is, whatever its body says. */
export interface RecordPlace {
  tenant: string;
  bucket: string;
  backupFile: string;
}

/** A record in record order, with the fields that say where it is taken from its place. */
export function placeRecord(record: Record<string, unknown>, place: RecordPlace): BackupMetadata {
  return inRecordOrder({
    ...record,
    tenant: place.tenant,
    bucket: place.bucket,
    backup_file: place.backupFile,
    key: archiveKey(place.tenant, place.backupFile),
  });
}

/** The record back from a listed object's custom metadata, or null when it has none. */
export function recordFromSummary(
  customMetadata: Record<string, string> | undefined,
  where: RecordPlace,
): BackupMetadata | null {
  const json = customMetadata?.[SUMMARY_FIELD];
  if (json === undefined) return null;
  try {
    return placeRecord(JSON.parse(json) as Record<string, unknown>, where);
  } catch {
    return null;
  }
}
