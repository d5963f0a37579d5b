// The Worker's retention after each recorded backup: the tenant's RETENTION_POLICIES entry (if
// any) is applied right away, so repositories need no credential that deletes. The backup just
// recorded is never deleted, nor any recorded while its run went on (its `duration_ms` says how
// long that was). A failure here never fails the record: it is reported in the answer.
import type { Env } from './env.js';
import { pruneTenant, MAX_RUN_MS } from './prune.js';
import { parseRetentionPolicies } from './retention-config.js';
import { parseRetentionLock } from './retention-lock.js';
import { policyFields } from './retention-policy.js';

export type AfterRecordRetention =
  | {
      policy: Record<string, number>;
      min_retention_days: number;
      kept: number;
      deleted: string[];
      count_deleted: number;
    }
  | { error: string };

/** Undefined when no policy names this tenant in this bucket. */
export async function retainAfterRecord(
  env: Env,
  binding: R2Bucket,
  bucket: string,
  tenant: string,
  backupFile: string,
  durationMs: number | undefined,
): Promise<AfterRecordRetention | undefined> {
  try {
    const entry = parseRetentionPolicies(env.RETENTION_POLICIES).find(
      (p) => p.bucket === bucket && p.tenant === tenant,
    );
    if (!entry) return undefined;
    const lockDays = parseRetentionLock(env.MIN_RETENTION_DAYS)(tenant);
    const startedMsAgo =
      typeof durationMs === 'number' && Number.isFinite(durationMs) && durationMs > 0
        ? Math.min(Math.ceil(durationMs), MAX_RUN_MS)
        : 0;
    const { kept, deleted } = await pruneTenant(binding, bucket, tenant, entry.policy, {
      dryRun: false,
      lockDays,
      run: { backupFile, startedMsAgo },
    });
    console.log(
      `retention ${bucket}/${tenant} after ${backupFile}: kept ${kept.length}, deleted ${deleted.length}`,
    );
    return {
      policy: policyFields(entry.policy),
      min_retention_days: lockDays,
      kept: kept.length,
      deleted: deleted.map((d) => d.backup_file),
      count_deleted: deleted.length,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : 'unknown error';
    console.error(`retention ${bucket}/${tenant} after ${backupFile}: failed: ${message}`);
    return { error: `retention was not applied: ${message}` };
  }
}
