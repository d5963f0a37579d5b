// GitHub's rate limits as a backup needs them, in a request hook (what @octokit/plugin-throttling
// and plugin-retry do, minus what a backup does not want): wait for the primary limit's reset when
// it is near enough, else stop with RateLimitExhausted so that the caller keeps what it has; wait
// out secondary limits (retry-after) a few times; retry 5xx answers and network errors of reads.
import { parseRetryAfter, retryDelay, retryNote } from '../retry.js';
import type { GitHubApi } from './client.js';

export type LimitKind = 'primary' | 'secondary';

/** A rate limit the run cannot wait for: `resetAt` is when GitHub will answer again. */
export class RateLimitExhausted extends Error {
  constructor(
    readonly limit: LimitKind,
    readonly resetAt: Date,
    message: string,
  ) {
    super(message);
    this.name = 'RateLimitExhausted';
  }
}

export interface LimitOptions {
  log: (message: string) => void;
  /** The longest wait for a limit (primary reset or retry-after) before giving up, in seconds. */
  maxWaitSeconds: number;
  sleep?: (ms: number) => Promise<void>;
  /** The clock that x-ratelimit-reset is compared with (ms since the epoch). */
  now?: () => number;
}

export interface Limits {
  /** HTTP requests sent through the client since applyLimits (every attempt counts). */
  requests(): number;
  /** Takes the hook off the client again. */
  remove(): void;
}

/** GitHub documents a minute's wait for a secondary limit that gives no retry-after. */
const SECONDARY_DEFAULT_MS = 60_000;
const SECONDARY_ATTEMPTS = 3;
const PRIMARY_WAITS = 3;
const SERVER_ERROR_ATTEMPTS = 4;

const clockTime = (ms: number): string => `${new Date(ms).toISOString().slice(11, 19)} UTC`;
const seconds = (ms: number): number => Math.ceil(ms / 1000);

type Headers = Record<string, string | number | undefined>;
interface HookError {
  status?: number;
  message?: string;
  response?: { headers?: Headers; data?: unknown };
}

const header = (headers: Headers | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  return value === undefined ? undefined : String(value);
};

/** A primary limit's state from an answer's headers, when it says the limit is spent. */
function spentLimit(headers: Headers | undefined): { resetMs: number; used: string } | undefined {
  if (header(headers, 'x-ratelimit-remaining') !== '0') return undefined;
  const reset = Number(header(headers, 'x-ratelimit-reset'));
  if (!Number.isFinite(reset)) return undefined;
  return { resetMs: reset * 1000, used: header(headers, 'x-ratelimit-used') ?? 'all' };
}

function isSecondaryMessage(error: HookError): boolean {
  const data = error.response?.data as { message?: unknown } | undefined;
  const text = `${error.message ?? ''} ${typeof data?.message === 'string' ? data.message : ''}`;
  return /secondary rate limit|abuse detection/i.test(text);
}

export function applyLimits(octokit: Pick<GitHubApi, 'hook'>, options: LimitOptions): Limits {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const maxWaitMs = options.maxWaitSeconds * 1000;
  let count = 0;
  // The primary limit as the last answer left it: a request sent while it is spent would only be
  // refused (and count against the secondary limits).
  let spent: { resetMs: number; used: string } | undefined;

  const waitForReset = async (limit: { resetMs: number; used: string }): Promise<void> => {
    const waitMs = Math.max(0, limit.resetMs + 1000 - now());
    if (waitMs > maxWaitMs)
      throw new RateLimitExhausted(
        'primary',
        new Date(limit.resetMs),
        `GitHub API rate limit reached (${limit.used} requests used); it resets at ${clockTime(limit.resetMs)}, ` +
          `in ${seconds(waitMs)}s, longer than the ${options.maxWaitSeconds}s the run may wait`,
      );
    options.log(
      `GitHub API rate limit reached (${limit.used} requests used); waiting ${seconds(waitMs)}s until ${clockTime(limit.resetMs + 1000)}`,
    );
    await sleep(waitMs);
  };

  const wrap = async <T extends { headers: Headers }>(
    request: (options: Record<string, unknown>) => Promise<T>,
    requestOptions: Record<string, unknown>,
  ): Promise<T> => {
    const method = String(requestOptions.method ?? 'GET').toUpperCase();
    const what = `${method} ${String(requestOptions.url ?? '')}`;
    let primaryWaits = 0;
    let secondaryWaits = 0;
    let failures = 0;
    for (;;) {
      if (spent && spent.resetMs + 1000 > now()) {
        const limit = spent;
        spent = undefined;
        if (++primaryWaits > PRIMARY_WAITS) throw new Error(`${what}: the rate limit did not reset`);
        await waitForReset(limit);
      }
      count++;
      try {
        const response = await request(requestOptions);
        spent = spentLimit(response.headers);
        return response;
      } catch (caught) {
        const error = caught as HookError;
        const headers = error.response?.headers;
        spent = undefined;
        if (error.status === 403 || error.status === 429) {
          const primary = spentLimit(headers);
          if (primary) {
            if (++primaryWaits > PRIMARY_WAITS) throw caught;
            await waitForReset(primary);
            continue;
          }
          const retryAfterMs = parseRetryAfter(header(headers, 'retry-after'));
          if (retryAfterMs !== undefined || isSecondaryMessage(error) || error.status === 429) {
            const waitMs = retryAfterMs ?? SECONDARY_DEFAULT_MS;
            if (waitMs > maxWaitMs || ++secondaryWaits > SECONDARY_ATTEMPTS)
              throw new RateLimitExhausted(
                'secondary',
                new Date(now() + waitMs),
                `GitHub API secondary rate limit on ${what}: retry after ${seconds(waitMs)}s` +
                  (waitMs > maxWaitMs
                    ? `, longer than the ${options.maxWaitSeconds}s the run may wait`
                    : ` after ${SECONDARY_ATTEMPTS} waits already`),
              );
            options.log(
              `GitHub API secondary rate limit on ${what}; waiting ${seconds(waitMs)}s (wait ${secondaryWaits} of ${SECONDARY_ATTEMPTS})`,
            );
            await sleep(waitMs);
            continue;
          }
        }
        // Octokit reports a network error as status 500 too. Only reads are sent again: a write
        // that failed on the way back may have been done.
        const transient = error.status !== undefined && error.status >= 500;
        if (!transient || (method !== 'GET' && method !== 'HEAD') || ++failures >= SERVER_ERROR_ATTEMPTS)
          throw caught;
        const delay = retryDelay(failures, undefined);
        options.log(
          `GitHub API ${what} failed (${error.message ?? String(caught)}); ${retryNote(delay, false, failures + 1, SERVER_ERROR_ATTEMPTS)}`,
        );
        await sleep(delay);
      }
    }
  };

  octokit.hook.wrap('request', wrap as never);
  return { requests: () => count, remove: () => octokit.hook.remove('request', wrap as never) };
}
