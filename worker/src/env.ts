// The Worker's configuration: vars and secrets from wrangler, plus one R2 binding per bucket
// (R2_<BUCKET_NAME_IN_UPPER_SNAKE>, looked up by name in buckets.ts). docs/security.md
// describes the auth variables with examples.
export interface Env {
  /** Bucket used when a request names none. */
  DEFAULT_BUCKET?: string;
  /** The admin token (a secret): every tenant and bucket. Unset: every authenticated route answers 401. */
  CLOUDCONNECT?: string;
  /** The key the Worker signs every record it stores with (a secret, HMAC-SHA-256); required. */
  RECORD_SIGNING_KEY?: string;
  /** The key before a rotation: records it signed still verify until they are re-signed. */
  RECORD_SIGNING_KEY_PREVIOUS?: string;
  /** Scoped tenant tokens (a secret), JSON `{"<sha256 hex of token>": {"tenants": [...], "buckets"?: [...],
   *  "role"?: "backup" | "maintain"}}`; without a role a token is `backup` (never deletes). */
  TENANT_TOKENS?: string;
  /** JSON `{"<tenant>": "<bucket>"}`: the bucket of a tenant whose credential names none
   *  (default `{tenant}-github-backup`). */
  TENANT_BUCKETS?: string;
  /** Expected `iss` of OIDC ID tokens (default GitHub Actions': https://token.actions.githubusercontent.com). */
  OIDC_ISSUER?: string;
  /** Where the issuer's signing keys are (default `{OIDC_ISSUER}/.well-known/jwks`). */
  OIDC_JWKS_URL?: string;
  /** Expected `aud`; required to turn OIDC on. */
  OIDC_AUDIENCE?: string;
  /** JSON `{"owners": {...}, "repositories": {"owner/name": {"tenants": [...], "buckets"?: [...], "id"?: n,
   *  "role"?: "backup" | "maintain"}}}` (docs/security.md); a grant without a role is `backup`. */
  OIDC_POLICY?: string;
  /** Slack-compatible incoming webhook for notifications; unset: none is sent. */
  WEBHOOK_URL?: string;
  /** How long to wait for the webhook, in milliseconds (default 3000). */
  WEBHOOK_TIMEOUT_MS?: string;
  /** JSON `{"<bucket>": {"<tenant>": {"keep_last": 30, "keep_days": 90, ...}}}`: the Worker's
   *  retention, applied by the cron trigger (scheduled.ts) and after each recorded backup of
   *  that tenant (retention-after-record.ts). Unset: the Worker deletes nothing by itself. */
  RETENTION_POLICIES?: string;
  /** Days after it is stored that no credential may delete a backup (admin included): a whole
   *  number for every tenant, or JSON `{"*": 7, "<tenant>": 30}`. Unset: 0. */
  MIN_RETENTION_DAYS?: string;
  /** Hours without a newly stored backup after which a tenant is stale (default 48): a number, or
   *  JSON `{"*": 48, "<tenant>": 12}`. The cron sends one webhook message when a tenant becomes
   *  stale and one when it recovers (stale.ts). */
  STALE_AFTER_HOURS?: string;
  /** A tenant whose last this many notifications are failures is failing (default 3). */
  FAILING_AFTER?: string;
  /** Hours after which an upload's empty claim is abandoned (default 6): a number, or JSON per
   *  tenant as STALE_AFTER_HOURS. The cron deletes abandoned claims. */
  ABANDONED_AFTER_HOURS?: string;
  /** Minutes after it is stored that the cron records an archive without a record from its object
   *  metadata (repair.ts; default 5): younger, it may be a running backup's. */
  REPAIR_AFTER_MINUTES?: string;
  /** USD per GB-month of R2 storage for the summaries' cost (default 0.015). */
  R2_STORAGE_PRICE_PER_GB_MONTH?: string;
  /** The dashboard's static files (worker/dashboard/, `[assets]` in wrangler.toml). */
  ASSETS?: { fetch(request: Request): Promise<Response> };
  [binding: string]: unknown;
}
