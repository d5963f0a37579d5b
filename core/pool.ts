// Runs an async job per item with at most `limit` in flight. On the first failure no new job
// starts; the ones in flight finish, then the first error is thrown (with a count of others).

export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  job: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (errors.length === 0 && next < items.length) {
      const index = next++;
      try {
        await job(items[index]!, index);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (errors.length > 0) {
    const first = errors[0];
    if (errors.length > 1 && first instanceof Error)
      first.message += ` (and ${errors.length - 1} more failures)`;
    throw first;
  }
}
