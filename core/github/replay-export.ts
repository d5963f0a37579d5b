// What `replay` takes from a metadata export (layout: export-format.ts): each item checked field
// by field, since the export is only as trustworthy as the bucket it came from. An item with a
// field of the wrong type is left out with a warning naming it; the rest is replayed.
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_LINE_BYTES, isItem, jsonLines, type Item } from './jsonl.js';
import {
  ADDED_FIELDS,
  EXPORT_FORMAT,
  MANIFEST_FILE,
  assetPath,
  kindFile,
  type ExportKind,
} from './export-format.js';

export interface ReplayLabel {
  name: string;
  color: string;
  description: string | null;
}

export interface ReplayMilestone {
  title: string;
  state: 'open' | 'closed';
  description: string | null;
  due_on: string | null;
}

/** Who wrote an item and when, and where it was: quoted in the body, as GitHub's API cannot
 *  create an item in another user's name or with another date. */
export interface Origin {
  author: string;
  created_at: string;
  html_url: string | null;
}

export interface ReplayIssue extends Origin {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  state_reason: string | null;
  labels: string[];
  /** The milestone's title (milestones are matched by title in the target). */
  milestone: string | null;
}

export interface ReplayComment extends Origin {
  id: number;
  issue_number: number;
  body: string;
}

export interface ReplayAsset {
  id: number;
  name: string;
  label: string | null;
  content_type: string;
  size: number;
  /** The asset's bytes in the export directory. */
  file: string;
}

export interface ReplayRelease extends Origin {
  id: number;
  tag_name: string;
  target_commitish: string | null;
  name: string | null;
  body: string;
  draft: boolean;
  prerelease: boolean;
  assets: ReplayAsset[];
}

export interface ReplayExport {
  /** The repository the export was made from, `owner/name`. */
  source: string;
  labels: ReplayLabel[];
  milestones: ReplayMilestone[];
  /** In number order. */
  issues: ReplayIssue[];
  /** Comments on the issues above, in the order they were written. */
  comments: ReplayComment[];
  releases: ReplayRelease[];
  /** Pull requests, and the comments on them: not replayed (their branches are not in the export). */
  pulls: number;
  pullComments: number;
  /** Items left out because a field was not what GitHub writes there. */
  invalid: number;
}

export const REPOSITORY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

class Invalid extends Error {}

function text(item: Item, field: string): string {
  const value = item[field];
  if (typeof value !== 'string') throw new Invalid(`${field} is not a string`);
  return value;
}

function textOrNull(item: Item, field: string): string | null {
  const value = item[field];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new Invalid(`${field} is not a string`);
  return value;
}

function nonEmpty(item: Item, field: string): string {
  const value = text(item, field);
  if (value.trim() === '') throw new Invalid(`${field} is empty`);
  return value;
}

function positiveInteger(item: Item, field: string): number {
  const value = item[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new Invalid(`${field} is not a positive integer`);
  return value;
}

function flag(item: Item, field: string): boolean {
  const value = item[field];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new Invalid(`${field} is not true or false`);
  return value;
}

function time(item: Item, field: string): string {
  const value = text(item, field);
  if (Number.isNaN(Date.parse(value))) throw new Invalid(`${field} is not a date`);
  return value;
}

function timeOrNull(item: Item, field: string): string | null {
  return item[field] === null || item[field] === undefined ? null : time(item, field);
}

function state(item: Item): 'open' | 'closed' {
  const value = item.state;
  if (value !== 'open' && value !== 'closed') throw new Invalid('state is neither open nor closed');
  return value;
}

function origin(item: Item): Origin {
  const user = item.user ?? item.author;
  // A login as GitHub makes them (it is quoted in Markdown): anything else reads as ghost, as
  // GitHub shows a deleted account.
  const login = isItem(user) ? user.login : undefined;
  const author = typeof login === 'string' && /^[A-Za-z0-9-]{1,39}(\[bot\])?$/.test(login) ? login : 'ghost';
  const url = textOrNull(item, 'html_url');
  return {
    author,
    created_at: time(item, 'created_at'),
    // Only a web address goes into the link of the quoted header.
    html_url: url !== null && /^https?:\/\/[^\s()<>]+$/.test(url) ? url : null,
  };
}

const label = (item: Item): ReplayLabel => {
  const color = text(item, 'color');
  if (!/^[0-9a-fA-F]{6}$/.test(color)) throw new Invalid('color is not 6 hexadecimal digits');
  return {
    name: nonEmpty(item, 'name'),
    color: color.toLowerCase(),
    description: textOrNull(item, 'description'),
  };
};

const milestone = (item: Item): ReplayMilestone => ({
  title: nonEmpty(item, 'title'),
  state: state(item),
  description: textOrNull(item, 'description'),
  due_on: timeOrNull(item, 'due_on'),
});

function issue(item: Item): ReplayIssue {
  const labels = item.labels ?? [];
  if (!Array.isArray(labels)) throw new Invalid('labels is not a list');
  const names = labels.map((entry: unknown) => {
    if (typeof entry === 'string') return entry;
    if (isItem(entry) && typeof entry.name === 'string') return entry.name;
    throw new Invalid('a label has no name');
  });
  const { milestone } = item;
  if (
    milestone !== null &&
    milestone !== undefined &&
    !(isItem(milestone) && typeof milestone.title === 'string')
  )
    throw new Invalid('milestone has no title');
  const stateReason = textOrNull(item, 'state_reason');
  return {
    ...origin(item),
    number: positiveInteger(item, 'number'),
    title: nonEmpty(item, 'title'),
    body: textOrNull(item, 'body') ?? '',
    state: state(item),
    state_reason: stateReason,
    labels: names,
    milestone: isItem(milestone) ? (milestone.title as string) : null,
  };
}

const comment = (item: Item): ReplayComment => ({
  ...origin(item),
  id: positiveInteger(item, 'id'),
  issue_number: positiveInteger(item, ADDED_FIELDS.issueNumber),
  body: textOrNull(item, 'body') ?? '',
});

function release(item: Item, exportDir: string): ReplayRelease {
  const id = positiveInteger(item, 'id');
  const assets = item.assets ?? [];
  if (!Array.isArray(assets)) throw new Invalid('assets is not a list');
  return {
    ...origin(item),
    id,
    tag_name: nonEmpty(item, 'tag_name'),
    target_commitish: textOrNull(item, 'target_commitish'),
    name: textOrNull(item, 'name'),
    body: textOrNull(item, 'body') ?? '',
    draft: flag(item, 'draft'),
    prerelease: flag(item, 'prerelease'),
    assets: assets.map((entry: unknown) => {
      if (!isItem(entry)) throw new Invalid('an asset is not an object');
      const assetId = positiveInteger(entry, 'id');
      const size = entry.size;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
        throw new Invalid('an asset size is not a whole number');
      return {
        id: assetId,
        name: nonEmpty(entry, 'name'),
        label: textOrNull(entry, 'label'),
        content_type: textOrNull(entry, 'content_type') ?? 'application/octet-stream',
        size,
        file: join(exportDir, assetPath(id, assetId)),
      };
    }),
  };
}

/** The objects of one `{kind}.jsonl` (none when the file is missing: a kind the export left out). */
async function* linesOf(
  exportDir: string,
  kind: ExportKind,
  warn: (message: string) => void,
): AsyncGenerator<Item> {
  const file = join(exportDir, kindFile(kind));
  const stats = await lstat(file).catch(() => undefined);
  if (!stats) return;
  if (!stats.isFile()) throw new Error(`${kindFile(kind)} in ${exportDir} is not a regular file`);
  for await (const { line, value, tooLong } of jsonLines(file)) {
    if (tooLong) warn(`${kindFile(kind)} line ${line}: longer than ${MAX_LINE_BYTES} bytes; left out`);
    else if (value === undefined) warn(`${kindFile(kind)} line ${line}: not JSON; left out`);
    else if (isItem(value)) yield value;
    else warn(`${kindFile(kind)} line ${line}: not an object; left out`);
  }
}

/** Each valid item of a kind; an invalid one is counted and named in a warning. */
async function itemsOf<T>(
  exportDir: string,
  kind: ExportKind,
  check: (item: Item) => T,
  warn: (message: string) => void,
  counts: { invalid: number },
): Promise<T[]> {
  const items: T[] = [];
  let line = 0;
  for await (const item of linesOf(exportDir, kind, warn)) {
    line++;
    try {
      items.push(check(item));
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      counts.invalid++;
      warn(`${kindFile(kind)} item ${line}: ${error.message}; left out`);
    }
  }
  return items;
}

/** The first of each key: a hostile export may repeat an item. */
function firstOf<T>(items: T[], keyOf: (item: T) => string | number): T[] {
  const seen = new Set<string | number>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function readManifest(exportDir: string): Promise<string> {
  const file = join(exportDir, MANIFEST_FILE);
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not a metadata export's manifest: ${(error as Error).message}`);
  }
  if (!isItem(manifest) || manifest.format !== EXPORT_FORMAT)
    throw new Error(`${file} is not a metadata export's manifest (format ${EXPORT_FORMAT})`);
  const { repository } = manifest;
  if (typeof repository !== 'string' || !REPOSITORY_NAME.test(repository))
    throw new Error(`${file} names no source repository (owner/name)`);
  return repository;
}

/** Reads and checks a metadata export directory (its manifest, JSON Lines and assets). */
export async function readReplayExport(
  exportDir: string,
  warn: (message: string) => void,
): Promise<ReplayExport> {
  const source = await readManifest(exportDir);
  const counts = { invalid: 0 };
  const labels = firstOf(await itemsOf(exportDir, 'labels', label, warn, counts), (l) =>
    l.name.toLowerCase(),
  );
  const milestones = firstOf(await itemsOf(exportDir, 'milestones', milestone, warn, counts), (m) => m.title);
  const issues = firstOf(await itemsOf(exportDir, 'issues', issue, warn, counts), (i) => i.number).sort(
    (a, b) => a.number - b.number,
  );
  const pulls = firstOf(
    await itemsOf(exportDir, 'pulls', (item) => positiveInteger(item, 'number'), warn, counts),
    (n) => n,
  );
  const issueNumbers = new Set(issues.map((i) => i.number));
  const pullNumbers = new Set(pulls);
  const allComments = firstOf(await itemsOf(exportDir, 'issue_comments', comment, warn, counts), (c) => c.id);
  const comments = allComments
    .filter((c) => issueNumbers.has(c.issue_number))
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
  const releases = firstOf(
    await itemsOf(exportDir, 'releases', (item) => release(item, exportDir), warn, counts),
    (r) => r.id,
  ).sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
  for (const r of releases) r.assets = await presentAssets(r, warn, counts);
  return {
    source,
    labels,
    milestones,
    issues,
    comments,
    releases,
    pulls: pulls.length,
    pullComments: allComments.filter((c) => pullNumbers.has(c.issue_number)).length,
    invalid: counts.invalid,
  };
}

/** The assets whose bytes are in the export as a regular file of the recorded size (never a
 *  link, symbolic or hard: a planted one could upload any file of this machine to GitHub). */
async function presentAssets(
  release: ReplayRelease,
  warn: (message: string) => void,
  counts: { invalid: number },
): Promise<ReplayAsset[]> {
  const present: ReplayAsset[] = [];
  for (const asset of firstOf(release.assets, (a) => a.name)) {
    const stats = await lstat(asset.file).catch(() => undefined);
    const problem = !stats
      ? 'is not in the export'
      : !stats.isFile() || stats.nlink !== 1
        ? 'is not a regular file with one link'
        : stats.size !== asset.size
          ? `has ${stats.size} bytes, its release says ${asset.size}`
          : undefined;
    if (problem === undefined) present.push(asset);
    else {
      counts.invalid++;
      warn(
        `release ${JSON.stringify(release.tag_name)}: asset ${JSON.stringify(asset.name)} ${problem}; left out`,
      );
    }
  }
  return present;
}
