// GNU sparse files: the maps of where a file's stored data goes, in the four forms GNU tar and
// bsdtar write (`tar -S`, bsdtar by default). The stored data is the concatenation of the
// regions; everything else is a hole (zeros), and the file's size is its real size.
import { CorruptArchiveError } from '../tree/entry-errors.js';

export interface Region {
  offset: number;
  size: number;
}

export interface SparseMap {
  regions: Region[];
  realSize: number;
}

const MAX_MAP_BYTES = 1024 * 1024;

export function parseCount(text: string, what: string): number {
  const value = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new CorruptArchiveError(`invalid ${what} "${text.slice(0, 40)}"`);
  return value;
}

/** The map must cover exactly the stored bytes, inside the real size. */
export function checkedMap(regions: Region[], realSize: number, storedBytes: number): SparseMap {
  let total = 0;
  for (const { offset, size } of regions) {
    if (offset + size > realSize) throw new CorruptArchiveError('a sparse region lies past the file size');
    total += size;
  }
  if (total !== storedBytes) throw new CorruptArchiveError('a sparse map does not match the stored data');
  return { regions: regions.filter((region) => region.size > 0), realSize };
}

/** Old GNU (type 'S'): {offset[12], numbytes[12]} entries in the header at 386 (4) and in
 *  extension blocks (21 each); an all-zero entry ends a list. */
export function oldGnuRegions(
  block: Buffer,
  start: number,
  count: number,
  parse: (f: Buffer) => number,
): Region[] {
  const regions: Region[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * 24;
    if (block[at] === 0) break;
    regions.push({
      offset: parse(block.subarray(at, at + 12)),
      size: parse(block.subarray(at + 12, at + 24)),
    });
  }
  return regions;
}

export const OLD_GNU = {
  headerMap: 386,
  headerEntries: 4,
  headerExtended: 482,
  realSize: 483,
  extensionEntries: 21,
  extensionExtended: 504,
} as const;

/** pax 0.0 (repeated GNU.sparse.offset / GNU.sparse.numbytes) and 0.1 (GNU.sparse.map). */
export function paxRegions(records: [string, string][]): Region[] | undefined {
  const map = records.findLast(([key]) => key === 'GNU.sparse.map');
  if (map) {
    const numbers = map[1] === '' ? [] : map[1].split(',').map((n) => parseCount(n, 'sparse map entry'));
    if (numbers.length % 2 !== 0) throw new CorruptArchiveError('a sparse map with an odd count');
    return pairs(numbers);
  }
  const numbers = records
    .filter(([key]) => key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes')
    .map(([key, value]) => ({ key, value: parseCount(value, key) }));
  if (numbers.length === 0) return undefined;
  const regions: Region[] = [];
  for (let i = 0; i < numbers.length; i += 2) {
    const offset = numbers[i]!;
    const size = numbers[i + 1];
    if (offset.key !== 'GNU.sparse.offset' || size?.key !== 'GNU.sparse.numbytes')
      throw new CorruptArchiveError('GNU.sparse.offset and GNU.sparse.numbytes out of order');
    regions.push({ offset: offset.value, size: size.value });
  }
  return regions;
}

const pairs = (numbers: number[]): Region[] => {
  const regions: Region[] = [];
  for (let i = 0; i < numbers.length; i += 2) regions.push({ offset: numbers[i]!, size: numbers[i + 1]! });
  return regions;
};

/** pax 1.0: the map opens the entry's data, decimal numbers one a line ("count\n" then
 *  offset/size pairs), padded to a block. Read a block at a time, each byte once: the number
 *  being read and those read so far are kept, so the cost is linear in the map's size. */
export class DataMapReader {
  private readonly numbers: number[] = [];
  private count: number | undefined;
  /** The number being read (a number may span two blocks), and its digits so far. */
  private value = 0;
  private digits = 0;
  private bytes = 0;

  /** The next block of the entry's data; the map and the bytes it takes once it is whole. */
  push(block: Buffer): { regions: Region[]; bytes: number } | undefined {
    this.bytes += block.length;
    for (let i = 0; i < block.length; i++) {
      const byte = block[i]!;
      if (byte >= 0x30 && byte <= 0x39 && this.digits < 16) {
        this.value = this.value * 10 + (byte - 0x30);
        this.digits++;
        continue;
      }
      if (byte !== 0x0a || this.digits === 0)
        throw new CorruptArchiveError(
          'invalid sparse map entry (one decimal number of up to 16 digits a line)',
        );
      if (this.count === undefined) this.count = this.value;
      else this.numbers.push(this.value);
      this.value = this.digits = 0;
      if (this.numbers.length === 2 * this.count) return { regions: pairs(this.numbers), bytes: this.bytes };
    }
    if (this.bytes >= MAX_MAP_BYTES) throw new CorruptArchiveError('a sparse map larger than 1 MiB');
    return undefined;
  }
}
