// The cron trigger (worker/wrangler.toml): applies the per-tenant retention policies of the
// RETENTION_POLICIES var, JSON `{"<bucket>": {"<tenant>": {"keep_last": 30, "keep_days": 90}}}`,
// never deleting what MIN_RETENTION_DAYS locks, and logs one line per tenant. A broken config prunes nothing; a tenant that fails does not
// stop the others, but fails the run.
import { bucketBinding } from './buckets.js';
import { misconfigured } from './config-json.js';
import type { Env } from './env.js';
import { pruneTenant } from './prune.js';
import { parseRetentionPolicies } from './retention-config.js';
import { parseRetentionLock } from './retention-lock.js';

export async function scheduled(_controller: ScheduledController, env: Env): Promise<void> {
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
