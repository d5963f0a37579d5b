// The cron trigger (worker/wrangler.toml): sweeps abandoned uploads (sweep.ts), sends missed-backup
// and failing alarms (alarms.ts), records archives that have no record (repair.ts), and applies the per-tenant retention policies of the
// RETENTION_POLICIES var, JSON `{"<bucket>": {"<tenant>": {"keep_last": 30, "keep_days": 90}}}`,
// never deleting what MIN_RETENTION_DAYS locks, and logs one line per tenant. A broken config prunes nothing; a tenant that fails does not
// stop the others, but fails the run.
import { checkBucketAlarms } from './alarms.js';
import { boundBuckets, bucketBinding } from './buckets.js';
import { misconfigured } from './config-json.js';
import type { Env } from './env.js';
import { pruneTenant } from './prune.js';
import { parseRetentionPolicies } from './retention-config.js';
import { parseRetentionLock } from './retention-lock.js';
import { repairBucket } from './repair.js';
import { sweepBucket } from './sweep.js';

/** Each job runs even when another failed; the run fails when any did. */
export async function scheduled(_controller: ScheduledController, env: Env): Promise<void> {
  const failures: string[] = [];
  for (const [name, job] of [
    ['retention', applyRetention],
    ['sweep', sweepAbandonedUploads],
    ['repair', repairCatalogue],
    // Last: a tenant's state counts what retention and repair left.
    ['alarms', sendAlarms],
  ] as const) {
    try {
      await job(env);
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }
  if (failures.length > 0) throw new Error(`cron failed: ${failures.join('; ')}`);
}

/** Abandoned uploads' claims (claims.ts), in every bound bucket. */
async function sweepAbandonedUploads(env: Env): Promise<void> {
  for (const { bucket, binding } of boundBuckets(env)) {
    for (const { tenant, deleted } of await sweepBucket(binding, bucket, env.ABANDONED_AFTER_HOURS)) {
      console.log(`sweep ${bucket}/${tenant}: deleted ${deleted.length} abandoned upload claims`);
    }
  }
}

/** Archives without a record, recorded from their objects' metadata (repair.ts). */
async function repairCatalogue(env: Env): Promise<void> {
  for (const { bucket, binding } of boundBuckets(env)) {
    for (const { tenant, recorded, refused } of await repairBucket(env, binding, bucket)) {
      if (recorded.length > 0) console.log(`repair ${bucket}/${tenant}: recorded ${recorded.join(', ')}`);
      for (const reason of refused) console.error(`repair ${bucket}/${tenant}: refused ${reason}`);
    }
  }
}

/** Missed-backup and failing alarms (alarms.ts), in every bound bucket; without WEBHOOK_URL
 *  they have nowhere to go (the summaries and the dashboard still show each tenant's state). */
async function sendAlarms(env: Env): Promise<void> {
  if (!env.WEBHOOK_URL) return;
  for (const { bucket, binding } of boundBuckets(env)) {
    for (const change of await checkBucketAlarms(env, binding, bucket)) {
      console.log(
        `alarm ${bucket}/${change.tenant}: ${change.from} -> ${change.to} (webhook ${change.webhook})`,
      );
    }
  }
}

async function applyRetention(env: Env): Promise<void> {
  const policies = parseRetentionPolicies(env.RETENTION_POLICIES);
  // MIN_RETENTION_DAYS applies to the cron as to everyone; a broken value deletes nothing.
  const lockOf = parseRetentionLock(env.MIN_RETENTION_DAYS);
  // Every bucket must be bound before anything is deleted.
  const bindings = policies.map(({ bucket }) => {
    try {
      return bucketBinding(env, bucket);
    } catch {
      throw misconfigured('RETENTION_POLICIES', `names bucket ${bucket}, which this Worker does not bind`);
    }
  });
  let failed = 0;
  for (const [i, { bucket, tenant, policy }] of policies.entries()) {
    try {
      const { kept, deleted, notifications } = await pruneTenant(bindings[i]!, bucket, tenant, policy, {
        dryRun: false,
        lockDays: lockOf(tenant),
      });
      const locked = kept.filter((k) => k.reasons.some((r) => r.startsWith('locked'))).length;
      console.log(
        `retention ${bucket}/${tenant}: kept ${kept.length}, deleted ${deleted.length}` +
          (locked > 0 ? ` (${locked} locked by MIN_RETENTION_DAYS)` : '') +
          (notifications.length > 0 ? `, and ${notifications.length} older notifications of no backup` : ''),
      );
    } catch (error) {
      failed++;
      console.error(
        `retention ${bucket}/${tenant}: failed: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
  }
  if (failed > 0) throw new Error(`retention failed for ${failed} of ${policies.length} tenants`);
}
