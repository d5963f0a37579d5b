// The previous export, as the caller downloaded, verified and extracted it: read as hostile all
// the same (a bucket is only as trustworthy as its credentials). Files are opened only at paths
// made of the layout's constants and integers, each step checked with lstat (no symlink is
// followed); lines that are not objects with an integer key are ignored; cursors are checked.
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EXPORT_FORMAT,
  KEY_OF,
  MANIFEST_FILE,
  assetPath,
  kindFile,
  type ExportCursors,
  type ExportKind,
} from './export-format.js';
import { keyOf, readItems, type Item } from './jsonl.js';

const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_PENDING_REVIEWS = 100_000;

export interface PreviousExport {
  dir: string;
  backupFile: string;
  cursors: ExportCursors;
  /** Lines of the previous export that were ignored (not JSON objects, or no integer key). */
  skipped: { lines: number };
}

/** The path of `segments` under `dir` when each step is a real directory and the last a regular
 *  file (lstat: a symlink anywhere is refused), else undefined. */
export async function regularFileUnder(
  dir: string,
  segments: readonly string[],
): Promise<string | undefined> {
  let path = dir;
  for (const [index, segment] of segments.entries()) {
    if (segment === '' || segment === '.' || segment === '..' || /[/\\]/.test(segment)) return undefined;
    path = join(path, segment);
    const stat = await lstat(path).catch(() => undefined);
    const last = index === segments.length - 1;
    if (!stat || (last ? !stat.isFile() : !stat.isDirectory())) return undefined;
  }
  return path;
}

const isoTime = (value: unknown): string | undefined => {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return undefined;
  return Number.isNaN(Date.parse(value)) ? undefined : value;
};

function cursorsOf(value: unknown): ExportCursors {
  const raw = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const cursors: ExportCursors = {};
  for (const kind of ['issues', 'issue_comments', 'review_comments', 'pulls'] as const) {
    const time = isoTime(raw[kind]);
    if (time) cursors[kind] = time;
  }
  if (Array.isArray(raw.pending_reviews)) {
    const numbers = raw.pending_reviews
      .slice(0, MAX_PENDING_REVIEWS)
      .filter((n): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0);
    if (numbers.length > 0) cursors.pending_reviews = [...new Set(numbers)];
  }
  return cursors;
}

/**
 * The previous export when its manifest is readable and names the same repository; else
 * undefined (with the reason logged), and the run exports everything again.
 */
export async function openPrevious(
  previous: { dir: string; backupFile: string },
  repository: string,
  log: (message: string) => void,
): Promise<PreviousExport | undefined> {
  const ignore = (why: string): undefined => {
    log(`Previous metadata export (${previous.backupFile}) ignored: ${why}; exporting everything`);
    return undefined;
  };
  const path = await regularFileUnder(previous.dir, [MANIFEST_FILE]);
  if (!path) return ignore(`no ${MANIFEST_FILE}`);
  const stat = await lstat(path);
  if (stat.size > MAX_MANIFEST_BYTES) return ignore(`${MANIFEST_FILE} is too large`);
  let manifest: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    manifest = parsed as Record<string, unknown>;
  } catch {
    return ignore(`${MANIFEST_FILE} is not a JSON object`);
  }
  if (manifest.format !== EXPORT_FORMAT) return ignore(`not the format ${EXPORT_FORMAT}`);
  if (
    typeof manifest.repository !== 'string' ||
    manifest.repository.toLowerCase() !== repository.toLowerCase()
  )
    return ignore(`it is the export of another repository`);
  return {
    dir: previous.dir,
    backupFile: previous.backupFile,
    cursors: cursorsOf(manifest.cursors),
    skipped: { lines: 0 },
  };
}

/** A previous export's items of a kind that have a valid key, with that key. */
export async function* previousItems(
  previous: PreviousExport | undefined,
  kind: ExportKind,
): AsyncGenerator<{ key: number; item: Item }> {
  if (!previous) return;
  const path = await regularFileUnder(previous.dir, [kindFile(kind)]);
  if (!path) return;
  for await (const item of readItems(path, previous.skipped)) {
    const key = keyOf(item, KEY_OF[kind]);
    if (key === undefined) previous.skipped.lines++;
    else yield { key, item };
  }
}

/** The previous export's file of a release asset, if it is a regular file where the layout puts it. */
export async function previousAsset(
  previous: PreviousExport | undefined,
  releaseId: number,
  assetId: number,
): Promise<string | undefined> {
  if (!previous) return undefined;
  return regularFileUnder(previous.dir, assetPath(releaseId, assetId).split('/'));
}
