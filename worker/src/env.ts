// The Worker's configuration: vars and secrets from wrangler, plus one R2 binding per bucket
// (R2_<BUCKET_NAME_IN_UPPER_SNAKE>, looked up by name in buckets.ts).
export interface Env {
  /** Bucket used when a request names none. */
  DEFAULT_BUCKET?: string;
  /** The admin token (a secret). Unset: every authenticated route answers 401. */
  CLOUDCONNECT?: string;
  /** Slack-compatible incoming webhook for notifications; unset: none is sent. */
  WEBHOOK_URL?: string;
  /** How long to wait for the webhook, in milliseconds (default 3000). */
  WEBHOOK_TIMEOUT_MS?: string;
  [binding: string]: unknown;
}
