// The cron's catalogue repair: in every bound bucket, each tenant's archives that have no record
// (their run's Worker call failed) are recorded from their objects' own metadata
// (common/archive-metadata.ts, checked by the record rules), signed as any record and never
// over one (records.ts). Left alone: empty objects (uploads' claims), archives stored less than
// REPAIR_AFTER_MINUTES ago (a running backup's record is on its way) and objects without this
// action's metadata. A multipart archive's metadata has no SHA-256 (known only at its end): the
// cron reads and hashes at most HASHES_PER_TENANT of those a run, of up to MAX_HASHED_BYTES
// (larger ones are left to `r2-backup verify --repair`, which reads them over S3).
import {
  ARCHIVE_METADATA,
  ArchiveMetadataError,
  REPAIR_AFTER_MS,
  hasArchiveMetadata,
  recordFromArchive,
} from '../../common/archive-metadata.js';
import { misconfigured } from './config-json.js';
import type { Env } from './env.js';
import { listTenants } from './listing.js';
import { sha256Of } from './object-hash.js';
import { storeSignedRecord } from './records.js';
import { scanTenant } from './tenant-objects.js';

/** Archives one tenant's repair records at most per cron run. */
const REPAIRS_PER_TENANT = 20;
const MAX_MINUTES = 7 * 24 * 60;
/** Reading an archive to hash it costs the cron's CPU time: a few, not too large, per run. */
const HASHES_PER_TENANT = 2;
const MAX_HASHED_BYTES = 1024 ** 3;
/** Who the repaired records say stored them. */
const REPAIR_PRINCIPAL = 'cron-repair';

export function repairAfterMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return REPAIR_AFTER_MS;
  const minutes = Number(raw);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_MINUTES) {
    throw misconfigured(
      'REPAIR_AFTER_MINUTES',
      `must be a number of minutes above 0 and at most ${MAX_MINUTES}`,
    );
  }
  return minutes * 60 * 1000;
}

export interface TenantRepair {
  tenant: string;
  recorded: string[];
  /** Archives whose metadata breaks the record rules, with why. */
  refused: string[];
}

export async function repairTenant(
  env: Env,
  binding: R2Bucket,
  bucket: string,
  tenant: string,
  settleMs: number,
  now = Date.now(),
): Promise<TenantRepair> {
  const objects = await scanTenant(binding, bucket, tenant);
  const recorded = new Set(objects.records.map((r) => r.backupFile));
  const result: TenantRepair = { tenant, recorded: [], refused: [] };
  const hashless = (object: R2Object): boolean =>
    object.customMetadata?.[ARCHIVE_METADATA.sha256] === undefined;
  const candidates = objects.archives.filter(
    ({ backupFile, object }) =>
      !recorded.has(backupFile) &&
      object.size > 0 &&
      now - object.uploaded.getTime() >= settleMs &&
      hasArchiveMetadata(object.customMetadata) &&
      (!hashless(object) || object.size <= MAX_HASHED_BYTES),
  );
  let hashes = 0;
  for (const { backupFile, object } of candidates.slice(0, REPAIRS_PER_TENANT)) {
    if (hashless(object) && hashes++ >= HASHES_PER_TENANT) continue;
    try {
      const sha256 = hashless(object) ? await sha256Of(binding, object) : undefined;
      if (sha256 === null) continue; // replaced or deleted meanwhile
      const input = recordFromArchive(
        tenant,
        bucket,
        backupFile,
        { size: object.size, metadata: object.customMetadata ?? {} },
        sha256,
      );
      // null: recorded meanwhile (its own run, or another repair).
      if (await storeSignedRecord(env, binding, bucket, input, REPAIR_PRINCIPAL))
        result.recorded.push(backupFile);
    } catch (error) {
      if (!(error instanceof ArchiveMetadataError)) throw error;
      result.refused.push(error.message);
    }
  }
  return result;
}

/** Every tenant of one bucket; only the tenants with something to say. */
export async function repairBucket(env: Env, binding: R2Bucket, bucket: string): Promise<TenantRepair[]> {
  const settleMs = repairAfterMs(env.REPAIR_AFTER_MINUTES);
  const repaired: TenantRepair[] = [];
  for (const tenant of await listTenants(binding)) {
    const result = await repairTenant(env, binding, bucket, tenant, settleMs);
    if (result.recorded.length > 0 || result.refused.length > 0) repaired.push(result);
  }
  return repaired;
}
