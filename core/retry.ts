// Retries an operation on transient errors with exponential backoff and jitter, honouring a
// server's Retry-After up to a cap; and the timeouts of every request to R2 and the Worker,
// read in one place (README: Troubleshooting), so that tests can shorten them.

/** Milliseconds from an environment variable, else `fallback`. */
function envMs(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`${name} must be a positive number of milliseconds`);
  return ms;
}

export interface Timeouts {
  /** To open the TCP (and TLS) connection. */
  connectMs: number;
  /** Without a single byte either way on an open request: the request is abandoned. */
  idleMs: number;
  /** Per attempt of a request without a large body; bodies add bytes / minBytesPerSecond. */
  requestMs: number;
  /** The slowest transfer tolerated for a part before its attempt is abandoned. */
  minBytesPerSecond: number;
  /** The longest wait a Retry-After header is honoured with. */
  retryAfterMaxMs: number;
  /** Backoff before the 2nd attempt; doubles each time (with jitter), at most 20 s. */
  retryBaseMs: number;
}

/**
 * R2_BACKUP_CONNECT_TIMEOUT_MS (10 s), R2_BACKUP_IDLE_TIMEOUT_MS (60 s), R2_BACKUP_REQUEST_TIMEOUT_MS
 * (120 s), R2_BACKUP_MIN_BYTES_PER_SECOND (64 KiB/s), R2_BACKUP_RETRY_AFTER_MAX_MS (60 s),
 * R2_BACKUP_RETRY_BASE_MS (500 ms).
 */
export function timeouts(): Timeouts {
  return {
    connectMs: envMs('R2_BACKUP_CONNECT_TIMEOUT_MS', 10_000),
    idleMs: envMs('R2_BACKUP_IDLE_TIMEOUT_MS', 60_000),
    requestMs: envMs('R2_BACKUP_REQUEST_TIMEOUT_MS', 120_000),
    minBytesPerSecond: envMs('R2_BACKUP_MIN_BYTES_PER_SECOND', 64 * 1024),
    retryAfterMaxMs: envMs('R2_BACKUP_RETRY_AFTER_MAX_MS', 60_000),
    retryBaseMs: envMs('R2_BACKUP_RETRY_BASE_MS', 500),
  };
}

/** The per-attempt deadline of a request carrying `bytes`: sized to the body. */
export const attemptDeadlineMs = (bytes: number, t: Timeouts = timeouts()): number =>
  t.requestMs + Math.ceil((bytes / t.minBytesPerSecond) * 1000);

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The wait before attempt `attempt + 1`: Retry-After (capped) when the server gave one, else backoff. */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  t: Timeouts = timeouts(),
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, t.retryAfterMaxMs);
  return Math.min(20_000, t.retryBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
}

/** "retrying in 1.2 s (Retry-After), attempt 2 of 4": the end of a retry's log line. */
export const retryNote = (delayMs: number, fromRetryAfter: boolean, next: number, attempts: number): string =>
  `retrying in ${(delayMs / 1000).toFixed(1)} s${fromRetryAfter ? ' (Retry-After)' : ''}, attempt ${next} of ${attempts}`;

export interface RetryOptions {
  attempts: number;
  /** Delay before the 2nd attempt; doubles each time. Default: timeouts().retryBaseMs. */
  baseDelayMs?: number;
  isTransient: (error: unknown) => boolean;
  /** The request, for the log line of a retry ("mpu-complete backups/t/x.tar"). */
  what?: string;
  /** Where retries are logged (default: nowhere). */
  log?: (message: string) => void;
  /** A Retry-After the error carries, in ms. */
  retryAfterOf?: (error: unknown) => number | undefined;
}

/** The request an error ended, and after how many attempts: withRetries' own, else the S3 SDK's. */
export interface GaveUp {
  what?: string;
  attempts: number;
}
const gaveUp = new WeakMap<object, GaveUp>();

export function gaveUpOn(error: unknown): GaveUp | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = gaveUp.get(error);
  if (own) return own;
  const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
  const what = (error as { $r2Request?: string }).$r2Request;
  return attempts === undefined ? undefined : { what, attempts };
}

export async function withRetries<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const t = timeouts();
  if (options.baseDelayMs !== undefined) t.retryBaseMs = options.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= options.attempts || !options.isTransient(error)) {
        // Kept beside the error (never on it) for the message that reports it.
        if (typeof error === 'object' && error !== null && !gaveUp.has(error))
          gaveUp.set(error, { what: options.what, attempts: attempt });
        throw error;
      }
      const retryAfter = options.retryAfterOf?.(error);
      const delay = retryDelay(attempt, retryAfter, t);
      options.log?.(
        `${options.what ?? 'A request'} failed (${(error as Error)?.message ?? String(error)}); ${retryNote(delay, retryAfter !== undefined, attempt + 1, options.attempts)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
