// Reads an extracted metadata export (export-format.ts) for rendering, without trusting it:
// the tree must hold regular files (one link each) and directories only, every JSONL line must
// be a JSON object with a positive integer key, and lines are streamed, never whole files.
// What is kept in memory is an index (key, parent, date, byte offset and length per line), so
// memory grows with the number of items (about a hundred bytes each), never with their text;
// an item's text is read back from its offset when it is rendered.
import { lstat, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_LINE_BYTES, isItem, jsonLines } from './jsonl.js';
import {
  ADDED_FIELDS,
  EXPORT_FORMAT,
  EXPORT_KINDS,
  KEY_OF,
  MANIFEST_FILE,
  REPOSITORY_FILE,
  kindFile,
  type ExportKind,
  type ExportManifest,
} from './export-format.js';

/** An export that is not what our exporter writes: refused whole, nothing is installed. */
export class RefusedExportError extends Error {
  override name = 'RefusedExportError';
  constructor(reason: string) {
    super(`The metadata export is refused: ${reason}. Nothing was restored.`);
  }
}

/** manifest.json and repository.json are read whole: small by nature, capped all the same. */
const MAX_JSON_FILE_BYTES = 16 * 1024 * 1024;

/** Refuses a tree holding anything but directories and regular files with a single link: a
 *  symbolic link could send a read (or the rendering's copy of an asset) outside the export. */
export async function checkExportTree(root: string): Promise<void> {
  const pending = [''];
  while (pending.length > 0) {
    const relative = pending.pop()!;
    for (const entry of await readdir(join(root, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isSymbolicLink())
        throw new RefusedExportError(`${JSON.stringify(path)} is a symbolic link`);
      else if (!entry.isFile()) throw new RefusedExportError(`${JSON.stringify(path)} is not a regular file`);
      else if ((await lstat(join(root, path))).nlink > 1)
        throw new RefusedExportError(`${JSON.stringify(path)} is a hard link`);
    }
  }
}

async function readJsonObject(root: string, name: string): Promise<Record<string, unknown>> {
  const path = join(root, name);
  const stats = await lstat(path).catch(() => undefined);
  if (!stats?.isFile()) throw new RefusedExportError(`it has no ${name}`);
  if (stats.size > MAX_JSON_FILE_BYTES)
    throw new RefusedExportError(`${name} is larger than ${MAX_JSON_FILE_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new RefusedExportError(`${name} is not JSON`);
  }
  if (!isItem(value)) throw new RefusedExportError(`${name} is not a JSON object`);
  return value;
}

export async function readManifest(root: string): Promise<ExportManifest> {
  const manifest = await readJsonObject(root, MANIFEST_FILE);
  if (manifest.format !== EXPORT_FORMAT)
    throw new RefusedExportError(`${MANIFEST_FILE} does not name the format ${EXPORT_FORMAT}`);
  if (typeof manifest.repository !== 'string' || typeof manifest.partial !== 'boolean')
    throw new RefusedExportError(`${MANIFEST_FILE} has no repository or partial field`);
  return manifest as unknown as ExportManifest;
}

export const readRepository = (root: string): Promise<Record<string, unknown>> =>
  readJsonObject(root, REPOSITORY_FILE);

/** Where one item's line is in its kind's file, and what orders and groups it. */
export interface IndexedItem {
  key: number;
  offset: number;
  length: number;
  /** The issue or pull request a comment or review belongs to. */
  parent?: number;
  /** When it was written (ISO), for the order of comments and reviews. */
  at?: string;
}

/** The field linking a kind's items to an issue or pull request, for the kinds that have one. */
const PARENT_OF: Partial<Record<ExportKind, string>> = {
  issue_comments: ADDED_FIELDS.issueNumber,
  reviews: ADDED_FIELDS.pullNumber,
  review_comments: ADDED_FIELDS.pullNumber,
};

const positiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/** Every item of a kind by its key (a later line with the same key replaces an earlier one,
 *  as a later run's copy replaces an item). A missing file is a kind with no items. */
export async function indexKind(root: string, kind: ExportKind): Promise<Map<number, IndexedItem>> {
  const name = kindFile(kind);
  const items = new Map<number, IndexedItem>();
  const exists = await lstat(join(root, name)).then(
    () => true,
    () => false,
  );
  if (!exists) return items;
  const keyField = KEY_OF[kind];
  const parentField = PARENT_OF[kind];
  for await (const { value: parsed, offset, length, line, tooLong } of jsonLines(join(root, name))) {
    if (tooLong) throw new RefusedExportError(`${name} line ${line} is longer than ${MAX_LINE_BYTES} bytes`);
    if (parsed === undefined) throw new RefusedExportError(`${name} line ${line} is not JSON`);
    if (!isItem(parsed)) throw new RefusedExportError(`${name} line ${line} is not a JSON object`);
    const value = parsed;
    const key = value[keyField];
    if (!positiveInteger(key))
      throw new RefusedExportError(`${name} line ${line}: ${keyField} is not a positive integer`);
    const item: IndexedItem = { key, offset, length };
    if (parentField) {
      const parent = value[parentField];
      if (!positiveInteger(parent))
        throw new RefusedExportError(`${name} line ${line}: ${parentField} is not a positive integer`);
      item.parent = parent;
      item.at = String(value.submitted_at ?? value.created_at ?? '');
    }
    items.set(key, item);
  }
  return items;
}

export type ExportIndex = Record<ExportKind, Map<number, IndexedItem>>;

export async function indexExport(root: string): Promise<ExportIndex> {
  const index = {} as ExportIndex;
  for (const kind of EXPORT_KINDS) index[kind] = await indexKind(root, kind);
  return index;
}

/** A kind's items grouped by the issue or pull request they belong to, oldest first. */
export function byParent(items: Map<number, IndexedItem>): Map<number, IndexedItem[]> {
  const groups = new Map<number, IndexedItem[]>();
  for (const item of items.values()) {
    const group = groups.get(item.parent!);
    if (group) group.push(item);
    else groups.set(item.parent!, [item]);
  }
  const order = (a: IndexedItem, b: IndexedItem): number =>
    a.at! < b.at! ? -1 : a.at! > b.at! ? 1 : a.key - b.key;
  for (const group of groups.values()) group.sort(order);
  return groups;
}

/** Items in the order of their keys (issue numbers, release ids). */
export const sortedItems = (items: Map<number, IndexedItem>): IndexedItem[] =>
  [...items.values()].sort((a, b) => a.key - b.key);

/** One item's object, read back from its line. */
export async function readItem(file: FileHandle, item: IndexedItem): Promise<Record<string, unknown>> {
  const bytes = Buffer.alloc(item.length);
  const { bytesRead } = await file.read(bytes, 0, item.length, item.offset);
  // The export is this process's staging copy: a line read short means it changed underneath.
  if (bytesRead !== item.length) throw new Error('The metadata export changed while it was rendered');
  return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
}
