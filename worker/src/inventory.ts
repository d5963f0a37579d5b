// GET /api/github/backup/:tenant/inventory: what the CLI's `verify` checks without
// downloading. Archives and records come from one listing of the tenant's folder (sizes from
// the listing, recorded sizes and hashes from each record's summary in customMetadata), and
// the answer pairs them: records without an archive, archives without a record (orphans),
// and archives whose size is not the recorded one. Newest first. Git bundles (`{stamp}.bundle`)
// are listed beside the archives, and checked against the records that name them; so are the
// other companions (metadata exports, wiki bundles, LFS lists), in `companions`.
import type { AuthedRequest } from './auth.js';
import type { Env } from './env.js';
import { jsonResponse } from './http.js';
import { newestFirst, recordScope, recordsOf } from './listing.js';
import { retentionInForce } from './retention-config.js';
import { abandonedAfterHours, claimsOf } from './claims.js';
import { companionObjects, scanTenant } from './tenant-objects.js';
import { companionKindOf, isBundleFile } from '../../common/validate.js';
import type { BackupMetadata } from '../../common/metadata.js';

/** The companions other than the git bundle (which has its own fields, older than these). */
const OTHER_COMPANIONS = ['meta', 'wiki', 'lfs'] as const;

/** Each companion a record names: its key, recorded size and SHA-256. */
function recordedCompanions(record: BackupMetadata | null | undefined) {
  if (!record) return [];
  return OTHER_COMPANIONS.flatMap((kind) => {
    const key = record[`${kind}_key`];
    if (key === undefined) return [];
    return [{ kind, key, size: record[`${kind}_size`], sha256: record[`${kind}_sha256`] }];
  });
}

export async function getInventory(request: AuthedRequest, env: Env): Promise<Response> {
  const { tenant, bucket, binding } = recordScope(request, env);
  const objects = await scanTenant(binding, bucket, tenant);
  const archives = objects.archives.sort(newestFirst).map(({ backupFile, object }) => ({
    backup_file: backupFile,
    key: object.key,
    size: object.size,
    etag: object.etag,
    uploaded: object.uploaded.toISOString(),
  }));
  const listed = objects.records.sort(newestFirst);
  // A record too long for its summary is read (rare: see record-summary.ts).
  const full = await recordsOf(env, binding, bucket, listed);
  const named = listed.map((_, i) => recordedCompanions(full[i]));
  const namedCompanions = named.flat();
  const records = listed.map(({ backupFile }, i) => {
    const record = full[i];
    return {
      backup_file: backupFile,
      verification: record?.verification ?? 'tampered',
      ...(record?.size !== undefined ? { size: record.size } : {}),
      ...(record?.sha256 !== undefined ? { sha256: record.sha256 } : {}),
      ...(record?.compression !== undefined ? { compression: record.compression } : {}),
      ...(record?.recorded_by !== undefined ? { recorded_by: record.recorded_by } : {}),
      ...(record?.bundle_key !== undefined
        ? {
            bundle_key: record.bundle_key,
            bundle_size: record.bundle_size,
            bundle_sha256: record.bundle_sha256,
          }
        : {}),
      ...(named[i]!.length > 0 ? { companions: named[i] } : {}),
    };
  });
  const recorded = new Set(records.map((r) => r.backup_file));
  // Unrecorded objects that are uploads' claims (claims.ts): archives', and their companions'.
  const recordedCompanionKeys = new Set(
    [...records.map((r) => r.bundle_key), ...namedCompanions.map((c) => c.key)].filter(Boolean),
  );
  const unrecorded = [
    ...objects.archives.filter((a) => !recorded.has(a.backupFile)),
    ...companionObjects(objects).filter(({ object }) => !recordedCompanionKeys.has(object.key)),
  ];
  const claims = claimsOf(unrecorded, abandonedAfterHours(env.ABANDONED_AFTER_HOURS)(tenant));
  const claimKeys = new Set(claims.map((c) => c.key));
  const bundles = objects.others
    .filter((o) => isBundleFile(o.key))
    .map((o) => ({ key: o.key, size: o.size, etag: o.etag, uploaded: o.uploaded.toISOString() }));
  const bundleSizes = new Map(bundles.map((b) => [b.key, b.size]));
  const recordedBundles = new Set(records.map((r) => r.bundle_key).filter(Boolean));

  const companions = objects.others
    .filter((o) => OTHER_COMPANIONS.some((kind) => kind === companionKindOf(o.key)))
    .map((o) => ({ key: o.key, size: o.size, etag: o.etag, uploaded: o.uploaded.toISOString() }));
  const companionSizes = new Map(companions.map((c) => [c.key, c.size]));
  const namedKeys = new Set(namedCompanions.map((c) => c.key));

  const stored = new Map(archives.map((a) => [a.backup_file, a.size]));
  return jsonResponse({
    success: true,
    tenant,
    bucket,
    retention: retentionInForce(env, bucket, tenant),
    archives,
    bundles,
    records,
    missing_archives: records.filter((r) => !stored.has(r.backup_file)).map((r) => r.backup_file),
    orphan_archives: archives.filter((a) => !recorded.has(a.backup_file)).map((a) => a.backup_file),
    // Which of those (and of the orphan companions) are uploads' claims, in progress or
    // abandoned (claims.ts).
    claims,
    abandoned_after_hours: abandonedAfterHours(env.ABANDONED_AFTER_HOURS)(tenant),
    size_mismatches: records
      .filter(
        (r) => r.size !== undefined && stored.has(r.backup_file) && stored.get(r.backup_file) !== r.size,
      )
      .map((r) => ({ backup_file: r.backup_file, recorded: r.size, stored: stored.get(r.backup_file) })),
    missing_bundles: records
      .filter((r) => r.bundle_key && !bundleSizes.has(r.bundle_key))
      .map((r) => r.bundle_key!),
    orphan_bundles: bundles
      .filter((b) => !recordedBundles.has(b.key) && !claimKeys.has(b.key))
      .map((b) => b.key),
    bundle_size_mismatches: records
      .filter(
        (r) =>
          r.bundle_key && bundleSizes.has(r.bundle_key) && bundleSizes.get(r.bundle_key) !== r.bundle_size,
      )
      .map((r) => ({ key: r.bundle_key!, recorded: r.bundle_size, stored: bundleSizes.get(r.bundle_key!) })),
    companions,
    missing_companions: namedCompanions.filter((c) => !companionSizes.has(c.key)).map((c) => c.key),
    orphan_companions: companions
      .filter((c) => !namedKeys.has(c.key) && !claimKeys.has(c.key))
      .map((c) => c.key),
    companion_size_mismatches: namedCompanions
      .filter((c) => companionSizes.has(c.key) && companionSizes.get(c.key) !== c.size)
      .map((c) => ({ key: c.key, recorded: c.size, stored: companionSizes.get(c.key) })),
  });
}
