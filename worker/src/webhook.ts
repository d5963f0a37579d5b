// Forwards a notification to a Slack-compatible incoming webhook. Best effort: a slow or
// broken receiver never fails the request; the outcome is reported instead.
import type { BackupNotification } from '../../common/metadata.js';
import type { Env } from './env.js';

export type WebhookOutcome = 'sent' | 'failed' | 'skipped';

const DEFAULT_TIMEOUT_MS = 3000;
const ICONS = { success: ':white_check_mark:', failure: ':x:', cancelled: ':warning:' } as const;

export function slackText(n: BackupNotification): string {
  const lines = [
    `${ICONS[n.status]} Backup ${n.status}: ${n.repo} (tenant ${n.tenant}) on ${n.branch} at ${n.commit.slice(0, 12)}`,
  ];
  if (n.backup_file) lines.push(`Archive: ${n.bucket}/backups/${n.tenant}/${n.backup_file}`);
  if (n.message) lines.push(n.message);
  if (n.run_url) lines.push(`Run: ${n.run_url}`);
  return lines.join('\n');
}

export async function forwardNotification(
  env: Env,
  notification: BackupNotification,
): Promise<WebhookOutcome> {
  if (!env.WEBHOOK_URL) return 'skipped';
  const timeout = Number(env.WEBHOOK_TIMEOUT_MS) > 0 ? Number(env.WEBHOOK_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  try {
    const response = await fetch(env.WEBHOOK_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: slackText(notification) }),
      signal: AbortSignal.timeout(timeout),
    });
    await response.body?.cancel();
    if (response.ok) return 'sent';
    // The URL itself is a credential for Slack webhooks: never log it.
    console.warn(`webhook answered ${response.status}`);
    return 'failed';
  } catch (error) {
    console.warn(`webhook failed: ${error instanceof Error ? error.name : 'error'}`);
    return 'failed';
  }
}
