// One kind's file of the new export: the previous export's items that were not fetched again,
// then the fetched ones (the last answer for a key wins: a since= overlap or a list that moved
// while it was paged may give an item twice). Memory holds keys, never items.
import { KEY_OF, ADDED_FIELDS, type ExportKind } from './export-format.js';
import { JsonlWriter, keyOf, readItems, type Item } from './jsonl.js';

export interface MergeInput {
  kind: ExportKind;
  /** The file this run's answers were written to, if the kind was fetched at all. */
  fetched?: string;
  previous: AsyncIterable<{ key: number; item: Item }>;
  out: string;
  /** Set when the kind's whole list was read: a previous item not in it was deleted on GitHub and
   *  stays, marked missing since this time (or since the time an earlier run marked). */
  missingSince?: string;
}

export interface MergeResult {
  count: number;
  carried: number;
  /** Items marked missing by this run (not those marked before). */
  newlyMissing: number;
}

export async function mergeKind(input: MergeInput): Promise<MergeResult> {
  const field = KEY_OF[input.kind];
  // Key -> index of the last fetched line with it.
  const lastFetched = new Map<number, number>();
  if (input.fetched) {
    let index = 0;
    for await (const item of readItems(input.fetched)) {
      const key = keyOf(item, field);
      if (key !== undefined) lastFetched.set(key, index);
      index++;
    }
  }
  const out = new JsonlWriter(input.out);
  let carried = 0;
  let newlyMissing = 0;
  try {
    const written = new Set<number>();
    for await (const { key, item } of input.previous) {
      if (lastFetched.has(key) || written.has(key)) continue;
      written.add(key);
      if (input.missingSince !== undefined && typeof item[ADDED_FIELDS.missingSince] !== 'string') {
        item[ADDED_FIELDS.missingSince] = input.missingSince;
        newlyMissing++;
      }
      await out.write(item);
      carried++;
    }
    if (input.fetched) {
      let index = 0;
      for await (const item of readItems(input.fetched)) {
        const key = keyOf(item, field);
        if (key !== undefined && lastFetched.get(key) === index) await out.write(item);
        index++;
      }
    }
  } finally {
    await out.close();
  }
  return { count: out.count, carried, newlyMissing };
}
