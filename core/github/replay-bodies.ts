// The text `replay` writes into the target repository: GitHub's API creates every item in the
// name of the token's user and at the time of the request, so each body starts with a quoted line
// giving the original author, date and place, and ends with its marker (markers.ts).
import { marker, type MarkerKind } from './markers.js';
import type { Origin } from './replay-export.js';

/** GitHub refuses a body longer than this many characters. */
export const MAX_BODY = 65_536;
const TRUNCATED = '\n\n*(truncated here: the full text is in `r2-backup restore --metadata`)*';

const VERB: Record<MarkerKind, string> = { issue: 'opened', comment: 'written', release: 'published' };

/** The login in code style, which GitHub does not turn into a mention (nobody is notified). */
function header(kind: MarkerKind, origin: Origin, place: string): string {
  const where = origin.html_url === null ? place : `[${place}](${origin.html_url})`;
  return `> Originally ${VERB[kind]} by \`${origin.author}\` on ${origin.created_at} in ${where}`;
}

export function replayedBody(
  kind: MarkerKind,
  source: string,
  id: number,
  place: string,
  origin: Origin,
  original: string,
): string {
  const top = `${header(kind, origin, place)}\n\n`;
  const end = `\n\n${marker(kind, source, id)}`;
  const room = MAX_BODY - top.length - end.length;
  const text = original.length <= room ? original : original.slice(0, room - TRUNCATED.length) + TRUNCATED;
  return top + text + end;
}
