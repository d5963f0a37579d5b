// core/retry.ts: transient failures tried again up to the limit, others at once; a server's
// Retry-After (seconds or an HTTP date) honoured up to its cap.
import { parseRetryAfter, retryDelay, withRetries } from '../../core/retry.js';

test('withRetries: transient errors again up to the limit, others at once', async () => {
  const attempts: number[] = [];
  const flaky = (failures: number, transient: boolean) => async (attempt: number) => {
    attempts.push(attempt);
    if (attempt <= failures) throw Object.assign(new Error(`fail ${attempt}`), { transient });
    return attempt;
  };
  const isTransient = (error: unknown) => (error as { transient: boolean }).transient;
  await expect(withRetries(flaky(2, true), { attempts: 3, baseDelayMs: 1, isTransient })).resolves.toBe(3);
  await expect(withRetries(flaky(3, true), { attempts: 3, baseDelayMs: 1, isTransient })).rejects.toThrow(
    'fail 3',
  );
  attempts.length = 0;
  await expect(withRetries(flaky(1, false), { attempts: 3, baseDelayMs: 1, isTransient })).rejects.toThrow(
    'fail 1',
  );
  expect(attempts).toEqual([1]);
});

describe('Retry-After', () => {
  afterEach(() => delete process.env.R2_BACKUP_RETRY_AFTER_MAX_MS);

  test('seconds, or an HTTP date (as a delay from now); nothing for absent or unreadable values', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0')).toBe(0);
    const inSeven = new Date(Math.floor(Date.now() / 1000) * 1000 + 7000).toUTCString();
    const fromDate = parseRetryAfter(inSeven)!;
    // An HTTP date has whole seconds: 6 to 7 s from now, less what passed since.
    expect(fromDate).toBeGreaterThan(5500);
    expect(fromDate).toBeLessThanOrEqual(7000);
    expect(parseRetryAfter(new Date(Date.now() - 60_000).toUTCString())).toBe(0); // in the past
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  test('honoured up to R2_BACKUP_RETRY_AFTER_MAX_MS (60 s by default), else backoff', () => {
    expect(retryDelay(1, 3000)).toBe(3000);
    expect(retryDelay(1, 3_600_000)).toBe(60_000);
    process.env.R2_BACKUP_RETRY_AFTER_MAX_MS = '4000';
    expect(retryDelay(1, 30_000)).toBe(4000);
    expect(retryDelay(1, 1500)).toBe(1500);
    // Without one: backoff with jitter, half to all of base * 2^(attempt-1).
    const backoff = retryDelay(3, undefined);
    expect(backoff).toBeGreaterThanOrEqual(1000);
    expect(backoff).toBeLessThanOrEqual(2000);
  });

  test('withRetries waits the capped Retry-After an error carries, and logs it', async () => {
    process.env.R2_BACKUP_RETRY_AFTER_MAX_MS = '300';
    const logged: string[] = [];
    const started = Date.now();
    const result = await withRetries(
      async (attempt) => {
        if (attempt === 1) throw Object.assign(new Error('busy'), { retryAfterMs: 3_600_000 });
        return attempt;
      },
      {
        attempts: 3,
        isTransient: () => true,
        retryAfterOf: (error) => (error as { retryAfterMs: number }).retryAfterMs,
        what: 'GET /x',
        log: (message) => logged.push(message),
      },
    );
    expect(result).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(logged).toEqual(['GET /x failed (busy); retrying in 0.3 s (Retry-After), attempt 2 of 3']);
  });
});
