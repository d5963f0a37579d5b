// core/retry.ts withRetries: transient failures tried again up to the limit, others at once.
import { withRetries } from '../../core/retry.js';

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
