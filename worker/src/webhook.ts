// Forwards a notification to a Slack-compatible incoming webhook. Best effort: a slow or
// broken receiver never fails the request; the outcome is reported instead.
import type { BackupNotification } from '../../common/metadata.js';
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
  if (!env.WEBHOOK_URL) return 'skipped';
  const timeout = Number(env.WEBHOOK_TIMEOUT_MS) > 0 ? Number(env.WEBHOOK_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  try {
    const response = await fetch(env.WEBHOOK_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: slackText(notification, githubServer(env)) }),
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
