// The cron's sweep of abandoned uploads: in every bound bucket, every tenant's claims (of archives
// and of their companions) older than
// ABANDONED_AFTER_HOURS (claims.ts) are deleted, so `verify` stops reporting them. The R2
// binding cannot list multipart uploads, and a claim does not hold its upload's id, so the
// unfinished multipart upload itself is left to R2's lifecycle rule for incomplete multipart
// uploads (docs/operations.md), or to `r2-backup sweep`, which lists them over S3.
import { abandonedAfterHours, claimsOf, isClaim } from './claims.js';
import { listTenants } from './listing.js';
import { companionObjects, scanTenant } from './tenant-objects.js';

export interface SweptTenant {
  bucket: string;
  tenant: string;
  deleted: string[];
}

/** Deletes one tenant's abandoned claims; each is looked at again just before, so an upload
 *  that completed meanwhile (an archive over its claim) is never deleted. */
export async function sweepTenant(
  binding: R2Bucket,
  bucket: string,
  tenant: string,
  abandonedAfter: number,
  now = new Date(),
): Promise<string[]> {
  const objects = await scanTenant(binding, bucket, tenant);
  // The claims of companions (`{stamp}.bundle`, `.meta.tar.zst`...) are swept like archives'.
  const deleted: string[] = [];
  const claims = claimsOf([...objects.archives, ...companionObjects(objects)], abandonedAfter, now);
  for (const claim of claims.filter((c) => c.abandoned)) {
    const current = await binding.head(claim.key);
    if (!current || !isClaim(current) || current.uploaded.toISOString() !== claim.uploaded) continue;
    await binding.delete(claim.key);
    deleted.push(claim.key);
  }
  return deleted;
}

export async function sweepBucket(
  binding: R2Bucket,
  bucket: string,
  abandonedAfterRaw: string | undefined,
): Promise<SweptTenant[]> {
  const hoursOf = abandonedAfterHours(abandonedAfterRaw);
  const swept: SweptTenant[] = [];
  for (const tenant of await listTenants(binding)) {
    const deleted = await sweepTenant(binding, bucket, tenant, hoursOf(tenant));
    if (deleted.length > 0) swept.push({ bucket, tenant, deleted });
  }
  return swept;
}
