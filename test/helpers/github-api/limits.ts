// GitHub's rate limits as its API shows them: the x-ratelimit-* headers on every answer, a
// primary limit that refuses requests (403, or 429) until its reset time once none remain, and
// secondary limits that refuse the next requests with a retry-after. Real time (Date.now), not
// the model's clock: a client waits for the reset on its own clock.

export interface PrimaryLimit {
  limit: number;
  remaining: number;
  /** Seconds from now until the window resets (then remaining goes back to limit). */
  resetInSeconds: number;
  /** The status of a refused request: GitHub answers 403 or 429. Default 403. */
  status?: 403 | 429;
}

export interface Refusal {
  status: 403 | 429;
  body: { message: string; documentation_url: string };
  headers: Record<string, string>;
}

const PRIMARY_MESSAGE = 'API rate limit exceeded for installation ID 1.';
const SECONDARY_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
const PRIMARY_DOCS =
  'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits';
const SECONDARY_DOCS =
  'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';
const HOUR = 3600;

export class RateLimits {
  private limit = 5000;
  private remaining = 5000;
  /** Epoch seconds. */
  private reset = 0;
  private primaryStatus: 403 | 429 = 403;
  private secondary: { left: number; retryAfterSeconds: number; status: 403 | 429 } = {
    left: 0,
    retryAfterSeconds: 0,
    status: 403,
  };

  constructor() {
    this.reset = nowSeconds() + HOUR;
  }

  setPrimary(primary: PrimaryLimit): void {
    this.limit = primary.limit;
    this.remaining = primary.remaining;
    this.reset = Math.ceil((Date.now() + primary.resetInSeconds * 1000) / 1000);
    this.primaryStatus = primary.status ?? 403;
  }

  /** The next `count` requests are refused with a secondary limit and `retry-after`. */
  secondaryOnce(count: number, retryAfterSeconds: number, status: 403 | 429 = 403): void {
    this.secondary = { left: count, retryAfterSeconds, status };
  }

  /** The state a test can assert on (remaining, reset in epoch seconds). */
  get primary(): { limit: number; remaining: number; reset: number; used: number } {
    this.rollOver();
    return {
      limit: this.limit,
      remaining: this.remaining,
      reset: this.reset,
      used: this.limit - this.remaining,
    };
  }

  /** Takes one request: a refusal, or undefined when the request may go on (and is counted). */
  take(): Refusal | undefined {
    this.rollOver();
    if (this.secondary.left > 0) {
      this.secondary.left--;
      return {
        status: this.secondary.status,
        body: { message: SECONDARY_MESSAGE, documentation_url: SECONDARY_DOCS },
        headers: { 'retry-after': String(this.secondary.retryAfterSeconds) },
      };
    }
    if (this.remaining <= 0) {
      return {
        status: this.primaryStatus,
        body: { message: PRIMARY_MESSAGE, documentation_url: PRIMARY_DOCS },
        headers: {},
      };
    }
    this.remaining--;
    return undefined;
  }

  /** Gives back the request just taken (GitHub does not count a 304 to a conditional request). */
  refund(): void {
    this.remaining = Math.min(this.limit, this.remaining + 1);
  }

  headers(): Record<string, string> {
    this.rollOver();
    return {
      'x-ratelimit-limit': String(this.limit),
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-reset': String(this.reset),
      'x-ratelimit-used': String(this.limit - this.remaining),
      'x-ratelimit-resource': 'core',
    };
  }

  private rollOver(): void {
    if (Date.now() >= this.reset * 1000) {
      this.remaining = this.limit;
      this.reset = nowSeconds() + HOUR;
    }
  }
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
