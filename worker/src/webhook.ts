// Forwards a notification to a Slack-compatible incoming webhook. Best effort: a slow or
// broken receiver never fails the request; the outcome is reported instead.
import type { BackupNotification } from '../../common/metadata.js';
import { checkHttpUrl } from '../../common/validate.js';
import type { Env } from './env.js';
import { slackText } from './slack-text.js';

export type WebhookOutcome = 'sent' | 'failed' | 'skipped';

const DEFAULT_TIMEOUT_MS = 3000;

/** Var GITHUB_SERVER_URL: the server whose run URLs are linked (GHES; default github.com). */
const githubServer = (env: Env): string | undefined =>
  typeof env.GITHUB_SERVER_URL === 'string' ? env.GITHUB_SERVER_URL : undefined;

export async function forwardNotification(
  env: Env,
  notification: BackupNotification,
): Promise<WebhookOutcome> {
  return sendWebhookText(env, slackText(notification, githubServer(env)));
}

/** Posts `{text}` to WEBHOOK_URL: notifications, and the cron's alarms (alarms.ts). */
export async function sendWebhookText(env: Env, text: string): Promise<WebhookOutcome> {
  if (!env.WEBHOOK_URL) return 'skipped';
  let url: string;
  try {
    url = checkHttpUrl(env.WEBHOOK_URL, 'WEBHOOK_URL');
  } catch (error) {
    // The rule, never the URL: for Slack the URL itself is a credential.
    console.warn(`webhook not sent: ${(error as Error).message}`);
    return 'failed';
  }
  const timeout = Number(env.WEBHOOK_TIMEOUT_MS) > 0 ? Number(env.WEBHOOK_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
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
