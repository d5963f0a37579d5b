// The manifest's cheap consistency check: one listing page (up to 1,000 objects) from a random
// place in the manifest must match it exactly (same paths, sizes and ETags). A mirror of up to
// 1,000 files is thus checked whole on every sync; a larger one, a different window each time,
// so an object changed or removed by hand is found within a few syncs (or at once with a full
// listing). Paths a sync may have left in doubt (`ignore`) are not compared.
import { compareKeys } from './local-tree.js';
import type { ManifestEntry } from './manifest.js';
import type { ListedPage } from './remote-listing.js';

export const WINDOW = 1000;

/** The path to list after (undefined: from the first). Every path is equally likely to be in
 *  the window: the start is drawn from -(WINDOW-1) .. n-1 and clamped to the first. */
export function chooseWindowStart(sortedPaths: readonly string[], random = Math.random): string | undefined {
  const n = sortedPaths.length;
  if (n <= WINDOW) return undefined;
  const start = Math.floor(random() * (n + WINDOW - 1)) - (WINDOW - 1);
  return start <= 0 ? undefined : sortedPaths[start - 1];
}

/** Why the page and the manifest disagree within the page's range, or null if they agree. */
export function windowMismatch(
  files: Readonly<Record<string, ManifestEntry>>,
  startAfter: string | undefined,
  page: ListedPage,
  ignore: ReadonlySet<string>,
): string | null {
  let last: string | undefined;
  for (const path of page.objects.keys()) if (last === undefined || compareKeys(path, last) > 0) last = path;
  const inRange = (path: string): boolean =>
    (startAfter === undefined || compareKeys(path, startAfter) > 0) &&
    (!page.truncated || (last !== undefined && compareKeys(path, last) <= 0));
  for (const [path, stored] of page.objects) {
    if (ignore.has(path)) continue;
    const entry = files[path];
    if (!entry) return `${path} is stored but not in the manifest`;
    if (entry.size !== stored.size || entry.etag !== stored.etag) return `${path} differs from the manifest`;
  }
  for (const path of Object.keys(files)) {
    if (!ignore.has(path) && inRange(path) && !page.objects.has(path)) {
      return `${path} is in the manifest but not stored`;
    }
  }
  return null;
}
