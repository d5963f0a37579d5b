// A metadata export (export-format.ts) rendered as Markdown a person can read: README.md (the
// repository, the counts and an index), issues/{number}.md, pulls/{number}.md and
// releases/{id}.md with each release's assets beside it in releases/{id}/. Hostile content
// cannot choose where anything is written: file names are made of GitHub's integers and, for
// an asset, its sanitized name after its id; every directory is made with a plain mkdir and
// every file opened with 'wx', so nothing is written through an entry that already exists.
// The export is checked first (export-index.ts): regular files and directories only.
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EXPORT_KINDS, assetPath, kindFile, type ExportKind } from './export-format.js';
import {
  byParent,
  checkExportTree,
  indexExport,
  readItem,
  readManifest,
  readRepository,
  sortedItems,
  type ExportIndex,
  type IndexedItem,
} from './export-index.js';
import { inline, orDash, quoted } from './markdown-text.js';
import { isItem } from './jsonl.js';

export interface RenderedExport {
  /** `owner/name`, as the manifest gives it. */
  repository: string;
  exported_at: string;
  partial: boolean;
  partial_reason?: string;
  /** Items rendered per kind, and the release assets placed beside their releases. */
  counts: Record<ExportKind | 'assets', number>;
}

const MAX_ASSET_NAME = 100;

/** An asset's file name: its id, then its name with anything but [A-Za-z0-9._-] replaced and
 *  cut to a bounded length. The id makes it unique within its release and keeps it from
 *  starting with a dot. */
export function assetFileName(assetId: number, name: unknown): string {
  const clean = (typeof name === 'string' ? name : '')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^[.]+/, '')
    .slice(0, MAX_ASSET_NAME);
  return clean === '' ? String(assetId) : `${assetId}-${clean}`;
}

/** Buffers a file's text and writes it in large pieces; the file is created, never reused. */
class MarkdownFile {
  private parts: string[] = [];
  private size = 0;
  private constructor(private readonly file: FileHandle) {}

  static async create(path: string): Promise<MarkdownFile> {
    return new MarkdownFile(await open(path, 'wx', 0o644));
  }

  async write(...lines: string[]): Promise<void> {
    for (const line of lines) {
      this.parts.push(line, '\n');
      this.size += line.length + 1;
    }
    if (this.size > 256 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    await this.file.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.file.close();
    }
  }
}

const login = (user: unknown): string => (isItem(user) ? orDash(user.login) : '-');
const by = (item: Record<string, unknown>): string => `@${login(item.user)}`;

/** Renders the export at `exportDir` into `outDir`, which must not exist yet. */
export async function renderExport(exportDir: string, outDir: string): Promise<RenderedExport> {
  await checkExportTree(exportDir);
  const manifest = await readManifest(exportDir);
  const repository = await readRepository(exportDir);
  const index = await indexExport(exportDir);
  await mkdir(outDir);
  const counts = Object.fromEntries(
    EXPORT_KINDS.map((kind) => [kind, index[kind].size]),
  ) as RenderedExport['counts'];
  counts.assets = 0;
  const files = await openKinds(exportDir);
  const readme = await MarkdownFile.create(join(outDir, 'README.md'));
  try {
    await writeReadmeHead(readme, manifest, repository, index);
    const milestones = await namesOf(files.milestones, index.milestones, 'title');
    const comments = byParent(index.issue_comments);
    const context = { outDir, files, comments, milestones };
    await readme.write('', '## Issues', '');
    await mkdir(join(outDir, 'issues'));
    for (const item of sortedItems(index.issues)) {
      const issue = await readItem(files.issues, item);
      await renderIssue(context, 'issues', item.key, issue);
      await readme.write(
        `- [#${item.key}](issues/${item.key}.md) ${inline(issue.title)} (${orDash(issue.state)})`,
      );
    }
    await readme.write('', '## Pull requests', '');
    await mkdir(join(outDir, 'pulls'));
    const reviews = byParent(index.reviews);
    const reviewComments = byParent(index.review_comments);
    for (const item of sortedItems(index.pulls)) {
      const pull = await readItem(files.pulls, item);
      await renderIssue(context, 'pulls', item.key, pull, { reviews, reviewComments });
      await readme.write(
        `- [#${item.key}](pulls/${item.key}.md) ${inline(pull.title)} (${orDash(pull.state)}${merged(pull) ? ', merged' : ''})`,
      );
    }
    await readme.write('', '## Releases', '');
    await mkdir(join(outDir, 'releases'));
    for (const item of sortedItems(index.releases)) {
      const release = await readItem(files.releases, item);
      counts.assets += await renderRelease(exportDir, outDir, item.key, release);
      await readme.write(
        `- [${orDash(release.tag_name)}](releases/${item.key}.md) ${inline(release.name)}${gone(release)}`,
      );
    }
    await writeLabelsAndMilestones(readme, files, index);
  } finally {
    await readme.close();
    await Promise.all(Object.values(files).map((file) => file.close()));
  }
  return {
    repository: manifest.repository,
    exported_at: String(manifest.exported_at),
    partial: manifest.partial,
    ...(manifest.partial_reason === undefined ? {} : { partial_reason: String(manifest.partial_reason) }),
    counts,
  };
}

type KindFiles = Record<ExportKind, FileHandle>;

/** Every kind's file, open for reading items back (an empty stand-in for a missing one). */
async function openKinds(exportDir: string): Promise<KindFiles> {
  const files = {} as KindFiles;
  for (const kind of EXPORT_KINDS) {
    const path = join(exportDir, kindFile(kind));
    files[kind] = await open((await exists(path)) ? path : '/dev/null', 'r');
  }
  return files;
}

const exists = (path: string): Promise<boolean> =>
  lstat(path).then(
    () => true,
    () => false,
  );

const merged = (pull: Record<string, unknown>): boolean => pull.merged === true || !!pull.merged_at;

/** A note for what GitHub no longer had when a later backup looked. */
const gone = (item: Record<string, unknown>): string =>
  item.r2_backup_missing_since ? ` (deleted on GitHub by ${inline(item.r2_backup_missing_since)})` : '';

async function namesOf(
  file: FileHandle,
  items: Map<number, IndexedItem>,
  field: string,
): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  for (const item of items.values()) names.set(item.key, inline((await readItem(file, item))[field]));
  return names;
}

async function writeReadmeHead(
  readme: MarkdownFile,
  manifest: Awaited<ReturnType<typeof readManifest>>,
  repository: Record<string, unknown>,
  index: ExportIndex,
): Promise<void> {
  const topics = Array.isArray(repository.topics) ? repository.topics.map(inline).join(', ') : '';
  await readme.write(
    `# ${inline(manifest.repository)}`,
    '',
    quoted(repository.description),
    '',
    `- Default branch: ${orDash(repository.default_branch)}`,
    `- Topics: ${topics || '-'}`,
    `- Exported: ${orDash(manifest.exported_at)}`,
    manifest.partial
      ? `- **Partial export**: ${orDash(manifest.partial_reason)} (the next backup continues it)`
      : '- Complete export',
    '- The export itself, as GitHub answered: [json/](json/)',
    '',
    '| Kind | Count |',
    '| --- | --- |',
    ...EXPORT_KINDS.map((kind) => `| ${kind.replace('_', ' ')} | ${index[kind].size} |`),
  );
}

interface RenderContext {
  outDir: string;
  files: KindFiles;
  comments: Map<number, IndexedItem[]>;
  milestones: Map<number, string>;
}

/** issues/{number}.md or pulls/{number}.md: the item, its body, then its comments in order
 *  (and for a pull request its refs, reviews and review comments). */
async function renderIssue(
  context: RenderContext,
  dir: 'issues' | 'pulls',
  number: number,
  item: Record<string, unknown>,
  pull?: { reviews: Map<number, IndexedItem[]>; reviewComments: Map<number, IndexedItem[]> },
): Promise<void> {
  const out = await MarkdownFile.create(join(context.outDir, dir, `${number}.md`));
  try {
    const labels = Array.isArray(item.labels)
      ? item.labels.map((label) => (isItem(label) ? inline(label.name) : inline(label))).join(', ')
      : '';
    const milestone = isItem(item.milestone)
      ? inline(item.milestone.title)
      : (context.milestones.get(Number(item.milestone)) ?? '');
    await out.write(
      `# #${number} ${inline(item.title)}`,
      '',
      `- State: ${orDash(item.state)}${item.state_reason ? ` (${inline(item.state_reason)})` : ''}`,
      `- Opened by ${by(item)} on ${orDash(item.created_at)}; updated ${orDash(item.updated_at)}` +
        (item.closed_at ? `; closed ${inline(item.closed_at)}` : ''),
      `- Labels: ${labels || '-'}`,
      `- Milestone: ${milestone || '-'}`,
    );
    if (pull) {
      const ref = (side: unknown): string =>
        isItem(side) ? `${orDash(side.ref)} at ${orDash(side.sha)}` : '-';
      await out.write(
        `- Head: ${ref(item.head)}`,
        `- Base: ${ref(item.base)}`,
        merged(item) ? `- Merged on ${orDash(item.merged_at)}` : '- Not merged',
      );
      if (item.draft === true) await out.write('- Draft');
    }
    await out.write('', quoted(item.body));
    await writeThread(
      out,
      '## Comments',
      context.files.issue_comments,
      context.comments.get(number),
      (comment) => [`### ${by(comment)} on ${orDash(comment.created_at)}`],
    );
    if (!pull) return;
    await writeThread(out, '## Reviews', context.files.reviews, pull.reviews.get(number), (review) => [
      `### ${orDash(review.state)} by ${by(review)} on ${orDash(review.submitted_at)}`,
    ]);
    await writeThread(
      out,
      '## Review comments',
      context.files.review_comments,
      pull.reviewComments.get(number),
      (comment) => [
        `### ${by(comment)} on ${orDash(comment.path)} line ${orDash(comment.line ?? comment.original_line)}, ${orDash(comment.created_at)}`,
        ...(comment.in_reply_to_id ? ['', `In reply to comment ${orDash(comment.in_reply_to_id)}`] : []),
      ],
    );
  } finally {
    await out.close();
  }
}

async function writeThread(
  out: MarkdownFile,
  heading: string,
  file: FileHandle,
  items: IndexedItem[] | undefined,
  head: (item: Record<string, unknown>) => string[],
): Promise<void> {
  if (!items?.length) return;
  await out.write('', heading);
  for (const item of items) {
    const value = await readItem(file, item);
    await out.write('', ...head(value), '', quoted(value.body));
  }
}

/** releases/{id}.md, and the release's assets that the export holds copied to releases/{id}/.
 *  Returns how many assets were placed. */
async function renderRelease(
  exportDir: string,
  outDir: string,
  id: number,
  release: Record<string, unknown>,
): Promise<number> {
  const out = await MarkdownFile.create(join(outDir, 'releases', `${id}.md`));
  let placed = 0;
  try {
    const kind = release.draft === true ? 'draft' : release.prerelease === true ? 'prerelease' : 'release';
    await out.write(
      `# ${orDash(release.tag_name)} ${inline(release.name)}`,
      '',
      `- Tag: ${orDash(release.tag_name)} (${kind})${gone(release)}`,
      `- Created by ${by({ user: release.author })} on ${orDash(release.created_at)}; published ${orDash(release.published_at)}`,
      '',
      quoted(release.body),
    );
    const assets = Array.isArray(release.assets) ? release.assets.filter(isItem) : [];
    if (assets.length === 0) return 0;
    await out.write('', '## Assets', '');
    const seen = new Set<number>();
    for (const asset of assets) {
      const assetId = asset.id;
      const label = `${inline(asset.name)} (${orDash(asset.size)} bytes)`;
      const source =
        typeof assetId === 'number' && Number.isSafeInteger(assetId) && assetId > 0
          ? join(exportDir, assetPath(id, assetId))
          : undefined;
      if (!source || seen.has(assetId as number) || !(await exists(source))) {
        await out.write(`- ${label}: not in this export`);
        continue;
      }
      const name = assetFileName(assetId as number, asset.name);
      if (seen.size === 0) await mkdir(join(outDir, 'releases', String(id)));
      seen.add(assetId as number);
      // EXCL: never over an existing entry (the source was checked to be a regular file); FICLONE
      // shares the blocks where the file system can, else it is a copy (assets take twice their size).
      await copyFile(
        source,
        join(outDir, 'releases', String(id), name),
        constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE,
      );
      placed++;
      await out.write(`- [${label}](${id}/${name})`);
    }
  } finally {
    await out.close();
  }
  return placed;
}

async function writeLabelsAndMilestones(
  readme: MarkdownFile,
  files: KindFiles,
  index: ExportIndex,
): Promise<void> {
  await readme.write('', '## Labels', '');
  for (const item of sortedItems(index.labels)) {
    const label = await readItem(files.labels, item);
    const description = label.description ? `: ${inline(label.description)}` : '';
    await readme.write(`- ${orDash(label.name)} (#${orDash(label.color)})${description}${gone(label)}`);
  }
  await readme.write('', '## Milestones', '');
  for (const item of sortedItems(index.milestones)) {
    const milestone = await readItem(files.milestones, item);
    const due = milestone.due_on ? `, due ${inline(milestone.due_on)}` : '';
    await readme.write(`- ${orDash(milestone.title)} (${orDash(milestone.state)}${due})${gone(milestone)}`);
  }
}
