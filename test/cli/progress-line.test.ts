// cli/progress.ts: what one progress line says (the CLI's runs in progress.test.ts show when).
import { jest } from '@jest/globals';
import { describeProgress, Progress } from '../../cli/progress.js';

const MIB = 1024 * 1024;

test('bytes: done of total, percent, rate and ETA from the rate so far', () => {
  expect(
    describeProgress(
      { label: 'restore: downloaded', unit: 'bytes' },
      { done: 3 * MIB, total: 12 * MIB },
      2000,
    ),
  ).toBe('restore: downloaded 3.0 MiB of 12.0 MiB (25%), 1.5 MiB/s, ETA 6.0 s');
});

test('items, a detail, no ETA before the first item or once done, none without a total', () => {
  const records = { label: 'list: records read', unit: { noun: 'records' } } as const;
  expect(describeProgress(records, { done: 1500, total: 2000, detail: 'page 2' }, 3000)).toBe(
    'list: records read 1,500 records of 2,000 records (75%), page 2, 500.0 records/s, ETA 1.0 s',
  );
  expect(describeProgress(records, { done: 0, total: 2000 }, 3000)).toBe(
    'list: records read 0 records of 2,000 records (0%), 0.0 records/s',
  );
  expect(describeProgress(records, { done: 2000, total: 2000 }, 3000)).toBe(
    'list: records read 2,000 records of 2,000 records (100%), 666.7 records/s',
  );
  expect(describeProgress(records, { done: 7 }, 1000)).toBe('list: records read 7 records, 7.0 records/s');
});

test('elapsed: the time so far, for work that reports only when it ends', () => {
  expect(describeProgress({ label: 'prune: waiting', unit: 'elapsed' }, { done: 0 }, 65_000)).toBe(
    'prune: waiting, 1 min 05 s so far',
  );
});

test('a line every interval with the latest state, none before the first state, none once stopped', () => {
  jest.useFakeTimers();
  try {
    const lines: string[] = [];
    const progress = new Progress({
      label: 'x',
      unit: 'bytes',
      intervalMs: 5,
      write: (line) => lines.push(line),
    });
    jest.advanceTimersByTime(30);
    expect(lines).toEqual([]);
    progress.update({ done: 10, total: 20 });
    jest.advanceTimersByTime(30);
    expect(lines).toHaveLength(6);
    expect(lines.every((line) => line.startsWith('x 10 B of 20 B (50%), '))).toBe(true);
    progress.stop();
    jest.advanceTimersByTime(30);
    expect(lines).toHaveLength(6);
  } finally {
    jest.useRealTimers();
  }
});
