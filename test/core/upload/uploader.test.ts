// core/upload/uploader.ts: part sizes within R2's limits and how many parts go at once.
import {
  MAX_PARTS,
  MIB,
  MIN_PART_SIZE,
  choosePartSize,
  fitsSmallestParts,
  partsInFlight,
} from '../../../core/upload/uploader.js';

test('choosePartSize: 8 MiB minimum, hundreds of GiB within 10,000 parts', () => {
  expect(choosePartSize(0)).toBe(8 * MIB);
  expect(choosePartSize(100 * MIB)).toBe(8 * MIB);
  expect(choosePartSize(70 * 1024 * MIB)).toBe(8 * MIB);
  expect(choosePartSize(80 * 1024 * MIB)).toBe(10 * MIB);
  for (const gib of [200, 500, 900]) {
    const bytes = gib * 1024 * MIB;
    const size = choosePartSize(bytes);
    expect(size % MIB).toBe(0);
    expect(Math.ceil(bytes / size)).toBeLessThanOrEqual(MAX_PARTS);
  }
  expect(() => choosePartSize(2000 * 1024 * MIB, 95 * MIB)).toThrow(/more than this upload path allows/);
});

test('partsInFlight: four small parts, fewer large ones, never none', () => {
  expect(partsInFlight(8 * MIB)).toBe(4);
  expect(partsInFlight(16 * MIB)).toBe(4);
  expect(partsInFlight(32 * MIB)).toBe(2);
  expect(partsInFlight(60 * MIB)).toBe(1);
  expect(partsInFlight(5 * 1024 * MIB)).toBe(1);
});

test('fitsSmallestParts is exactly what choosePartSize gives the smallest parts for', () => {
  for (const bytes of [0, 70 * 1024 * MIB, MIN_PART_SIZE * 9_000, MIN_PART_SIZE * 9_000 + 1]) {
    expect(fitsSmallestParts(bytes)).toBe(choosePartSize(bytes) === MIN_PART_SIZE);
  }
});
