// Retries an operation on transient errors with exponential backoff and jitter.

export interface RetryOptions {
  attempts: number;
  /** Delay before the 2nd attempt; doubles each time. */
  baseDelayMs?: number;
  isTransient: (error: unknown) => boolean;
}

export async function withRetries<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const base = options.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= options.attempts || !options.isTransient(error)) throw error;
      const delay = base * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
