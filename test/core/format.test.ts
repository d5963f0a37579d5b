// One formatter for sizes, rates and durations: no float noise (`305.08474576271186 B/s`).
import { formatBytes, formatDuration, formatRate } from '../../core/format.js';

test.each([
  [0, '0 B'],
  [1023, '1023 B'],
  [1024, '1.0 KiB'],
  [1536, '1.5 KiB'],
  [5 * 1024 * 1024, '5.0 MiB'],
  [3.25 * 1024 ** 3, '3.3 GiB'],
  [305.08474576271186, '305 B'],
])('formatBytes(%p) is %p', (bytes, text) => {
  expect(formatBytes(bytes)).toBe(text);
});

test('formatRate gives a whole number of bytes, or one decimal above', () => {
  expect(formatRate(18_000, 59_000)).toBe('305 B/s');
  expect(formatRate(10 * 1024 * 1024, 2000)).toBe('5.0 MiB/s');
  expect(formatRate(100, 0)).toBe('97.7 KiB/s'); // no division by zero: at least 1 ms
});

test.each([
  [400, '0.4 s'],
  [12_000, '12.0 s'],
  [59_960, '1 min 00 s'],
  [185_000, '3 min 05 s'],
  [7_440_000, '2 h 04 min'],
  [-5, '0.0 s'],
])('formatDuration(%p) is %p', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});
