// The hidden marker at the end of every issue, comment and release that `replay` creates: it names
// the item of the source repository it came from, so that a second run finds what the first one
// created (GitHub's API gives no other place to keep that) and creates nothing twice.

export type MarkerKind = 'issue' | 'comment' | 'release';

/** `issue owner/repo#12`, `comment owner/repo#345`, `release owner/repo@678`: what a marker names. */
export function markerRef(kind: MarkerKind, source: string, id: number): string {
  return `${kind} ${source}${kind === 'release' ? '@' : '#'}${id}`;
}

export const marker = (kind: MarkerKind, source: string, id: number): string =>
  `<!-- r2-backup:${markerRef(kind, source, id)} -->`;

// Only the marker a body ends with counts: an original body may quote markers of its own (an
// issue that was itself replayed from elsewhere), and those name other items.
const TRAILING_MARKER = /<!-- r2-backup:((?:issue|comment|release) [^\s<>]+) -->\s*$/;

/** The reference (as markerRef makes it) of the marker a body ends with, if any. */
export function trailingMarkerRef(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  return TRAILING_MARKER.exec(body)?.[1];
}

/** The source id a body's trailing marker gives for `kind` from `source`, if it has one. */
export function markedId(body: unknown, kind: MarkerKind, source: string): number | undefined {
  const ref = trailingMarkerRef(body);
  const prefix = markerRef(kind, source, 0).slice(0, -1);
  if (ref === undefined || !ref.startsWith(prefix)) return undefined;
  const id = ref.slice(prefix.length);
  return /^[1-9]\d{0,15}$/.test(id) ? Number(id) : undefined;
}
