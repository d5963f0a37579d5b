// The cron's alarms: every tenant of every bound bucket is summarized (tenant-summary.ts) and
// its state (ok, stale, failing) compared with the one the last run saw, kept in a small object
// `alarms/{tenant}.json` outside the tenant's folder (so prune and listings never see it). One
// webhook message when a tenant becomes stale or failing, one when it recovers; nothing while
// the state holds. The state is stored only after the message was sent, so a receiver that was
// down hears of it on the next run.
import { escapeSlack } from './slack-text.js';
import type { Env } from './env.js';
import { listTenants } from './listing.js';
import { summarizeTenant, type TenantState, type TenantSummary } from './tenant-summary.js';
import { sendWebhookText } from './webhook.js';

export const alarmKey = (tenant: string): string => `alarms/${tenant}.json`;

interface AlarmState {
  state: TenantState;
  since: string;
}

async function previousState(binding: R2Bucket, tenant: string): Promise<TenantState> {
  const object = await binding.get(alarmKey(tenant));
  if (!object) return 'ok';
  try {
    const stored = (await object.json()) as Partial<AlarmState>;
    return stored.state === 'stale' || stored.state === 'failing' ? stored.state : 'ok';
  } catch {
    return 'ok';
  }
}

export function alarmText(summary: TenantSummary, before: TenantState): string {
  const where = `tenant ${escapeSlack(summary.tenant)} (bucket ${summary.bucket})`;
  const newest = summary.newest
    ? `newest backup ${escapeSlack(summary.newest.backup_file)}, ${summary.newest.age_hours} hours old`
    : 'no backup stored';
  if (summary.state === 'stale')
    return `:rotating_light: Backups missed: ${where} is stale: ${newest} (more than ${summary.stale_after_hours} hours)`;
  if (summary.state === 'failing')
    return `:rotating_light: Backups failing: ${where}: its last ${summary.recent_failures} runs failed`;
  return `:white_check_mark: Backups recovered: ${where} is ${before === 'stale' ? 'no longer stale' : 'no longer failing'}: ${newest}`;
}

export interface AlarmChange {
  bucket: string;
  tenant: string;
  from: TenantState;
  to: TenantState;
  webhook: string;
}

export async function checkBucketAlarms(env: Env, binding: R2Bucket, bucket: string): Promise<AlarmChange[]> {
  const changes: AlarmChange[] = [];
  for (const tenant of await listTenants(binding)) {
    const summary = await summarizeTenant(env, binding, bucket, tenant);
    const before = await previousState(binding, tenant);
    if (summary.state === before) continue;
    const webhook = await sendWebhookText(env, alarmText(summary, before));
    changes.push({ bucket, tenant, from: before, to: summary.state, webhook });
    if (webhook === 'failed') continue; // told next run
    if (summary.state === 'ok') await binding.delete(alarmKey(tenant));
    else {
      const state: AlarmState = { state: summary.state, since: new Date().toISOString() };
      await binding.put(alarmKey(tenant), JSON.stringify(state), {
        httpMetadata: { contentType: 'application/json' },
      });
    }
  }
  return changes;
}
