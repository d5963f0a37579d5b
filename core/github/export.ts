// A repository's metadata exported through GitHub's REST API into a directory laid out as
// export-format.ts says, incrementally: what changed since the previous export's cursors is
// fetched, the rest is carried from the previous export, so that each export is complete on its
// own. A rate limit the run cannot wait for ends the fetching early: the export then holds the
// previous one plus what was fetched, marked partial, with cursors from which the next run goes on.
import { copyFile, lstat, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadAsset } from './assets.js';
import type { GitHubApi } from './client.js';
import {
  ADDED_FIELDS,
  EXPORT_FORMAT,
  EXPORT_KINDS,
  MANIFEST_FILE,
  REPOSITORY_FILE,
  assetPath,
  kindFile,
  type ExportCursors,
  type ExportKind,
  type ExportManifest,
} from './export-format.js';
import { JsonlWriter, isItem, keyOf, readItems, type Item } from './jsonl.js';
import { applyLimits, RateLimitExhausted, type Limits } from './limits.js';
import { mergeKind } from './merge.js';
import { pages } from './pages.js';
import {
  openPrevious,
  previousAsset,
  previousItems,
  regularFileUnder,
  type PreviousExport,
} from './previous.js';

export interface ExportOptions {
  api: GitHubApi;
  owner: string;
  repo: string;
  /** An empty directory: the export is written here. */
  dir: string;
  /** The previous export, downloaded, verified and extracted (its asset files are moved from it). */
  previous?: { dir: string; backupFile: string };
  log: (message: string) => void;
  /** The longest wait for a rate limit before the run stops, partial. */
  maxWaitSeconds: number;
  /** The run's clock (ms since the epoch): its start is the cursors' base. */
  now?: () => number;
  /** How the rate limits wait (tests). */
  sleep?: (ms: number) => Promise<void>;
}

/** GitHub's lists are not instantly consistent and its clock is not the runner's: a complete run's
 *  cursors start this much before the run did (since= is inclusive: an overlap costs nothing). */
export const CURSOR_SKEW_MS = 5 * 60_000;

/** GitHub writes times to the second; a cursor is floored to one. */
const isoSecond = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The trailing number of an API URL (`.../issues/12` -> 12) when it is `segment/{n}`. */
function numberAfter(url: unknown, segment: string): number | undefined {
  if (typeof url !== 'string') return undefined;
  const match = new RegExp(`/${segment}/(\\d+)$`).exec(url);
  const n = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

const isStatus = (error: unknown, status: number): boolean =>
  (error as { status?: unknown }).status === status;

/** One run: the files fetched so far (in a work directory), how far each kind got, why it stopped. */
class Run {
  readonly writers = new Map<ExportKind, JsonlWriter>();
  /** Kinds whose list this run read to the end. */
  readonly complete = new Set<ExportKind>();
  /** The `updated_at` of the last item read of an ascending list. */
  readonly lastUpdated = new Map<ExportKind, string>();
  /** Pull requests whose reviews are to be fetched (changed, flagged by the issues, or left over). */
  readonly reviewsWanted = new Set<number>();
  stopped?: RateLimitExhausted;
  /** API requests of each step that finished. */
  readonly requestsOf = new Map<string, number>();

  constructor(
    readonly options: ExportOptions,
    readonly work: string,
    readonly limits: Limits,
    readonly previous: PreviousExport | undefined,
  ) {}

  get route(): { owner: string; repo: string } {
    return { owner: this.options.owner, repo: this.options.repo };
  }

  writer(kind: ExportKind): JsonlWriter {
    let writer = this.writers.get(kind);
    if (!writer) {
      writer = new JsonlWriter(join(this.work, kindFile(kind)));
      this.writers.set(kind, writer);
    }
    return writer;
  }

  fetchedFile(kind: ExportKind): string | undefined {
    return this.writers.has(kind) ? join(this.work, kindFile(kind)) : undefined;
  }

  /** Runs a step unless the run has stopped; a rate limit it cannot wait for stops the run. */
  async step(name: string, job: () => Promise<void>): Promise<void> {
    if (this.stopped) return;
    const before = this.limits.requests();
    try {
      await job();
    } catch (error) {
      if (!(error instanceof RateLimitExhausted)) throw error;
      this.stopped = error;
      this.options.log(`${name}: stopped (${error.message}); the export will be partial`);
    }
    const requests = this.limits.requests() - before;
    if (!this.stopped) this.requestsOf.set(name, requests);
  }

  progress(kind: ExportKind, text: string, since?: string): void {
    const requests = this.requestsOf.get(kind) ?? 0;
    this.options.log(
      `${kind}: ${text}${since ? ` since ${since}` : ''} (${requests} request${requests === 1 ? '' : 's'})`,
    );
  }
}

/** A kind GitHub lists whole each run (labels, milestones, releases). */
async function fetchWhole(run: Run, kind: ExportKind, route: string, params: Record<string, unknown> = {}) {
  await run.step(kind, async () => {
    const writer = run.writer(kind);
    for await (const page of pages(run.options.api, route, { ...run.route, ...params })) {
      for (const item of page) if (keyOf(item, 'id') !== undefined) await writer.write(item);
    }
    run.complete.add(kind);
  });
  if (run.complete.has(kind)) run.progress(kind, `${run.writers.get(kind)?.count ?? 0}`);
}

/** A kind listed by `updated_at` ascending from a cursor (since= is inclusive). */
async function fetchSince(
  run: Run,
  kind: 'issues' | 'issue_comments' | 'review_comments',
  route: string,
  since: string | undefined,
  take: (item: Item) => Item | undefined,
) {
  let taken = 0;
  await run.step(kind, async () => {
    const writer = run.writer(kind);
    const params = { ...run.route, sort: 'updated', direction: 'asc', ...(since ? { since } : {}) };
    for await (const page of pages(
      run.options.api,
      route,
      kind === 'issues' ? { ...params, state: 'all' } : params,
    )) {
      for (const item of page) {
        const kept = take(item);
        if (kept) {
          await writer.write(kept);
          taken++;
        }
        if (typeof item.updated_at === 'string') run.lastUpdated.set(kind, item.updated_at);
      }
    }
    run.complete.add(kind);
  });
  if (run.complete.has(kind)) run.progress(kind, `${taken} ${since ? 'changed' : 'in all'}`, since);
}

/** Pull requests by `updated_at` descending, down to the first older than the cursor. */
async function fetchPulls(run: Run, since: string | undefined) {
  let taken = 0;
  await run.step('pulls', async () => {
    const writer = run.writer('pulls');
    const sinceMs = since ? Date.parse(since) : undefined;
    const params = { ...run.route, state: 'all', sort: 'updated', direction: 'desc' };
    listing: for await (const page of pages(run.options.api, '/repos/{owner}/{repo}/pulls', params)) {
      for (const item of page) {
        const updated = typeof item.updated_at === 'string' ? Date.parse(item.updated_at) : NaN;
        if (sinceMs !== undefined && updated < sinceMs) break listing;
        const number = keyOf(item, 'number');
        if (number === undefined) continue;
        await writer.write(item);
        run.reviewsWanted.add(number);
        taken++;
      }
    }
    run.complete.add('pulls');
  });
  if (run.complete.has('pulls')) run.progress('pulls', `${taken} ${since ? 'changed' : 'in all'}`, since);
}

/** The reviews of each pull request in `reviewsWanted`, whole (a pull request has few). */
async function fetchReviews(run: Run) {
  let fetchedFor = 0;
  await run.step('reviews', async () => {
    const writer = run.writer('reviews');
    for (const number of [...run.reviewsWanted].sort((a, b) => a - b)) {
      try {
        for await (const page of pages(run.options.api, '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', {
          ...run.route,
          pull_number: number,
        })) {
          for (const review of page)
            if (keyOf(review, 'id') !== undefined)
              await writer.write({ ...review, [ADDED_FIELDS.pullNumber]: number });
        }
      } catch (error) {
        // A pull request deleted since it was listed has no reviews left to fetch.
        if (!isStatus(error, 404)) throw error;
      }
      run.reviewsWanted.delete(number);
      fetchedFor++;
    }
    run.complete.add('reviews');
  });
  if (run.complete.has('reviews')) run.progress('reviews', `of ${fetchedFor} pull requests`);
}

async function fetchRepository(run: Run, dir: string): Promise<boolean> {
  let written = false;
  await run.step('repository', async () => {
    const { data } = await run.options.api.request('GET /repos/{owner}/{repo}', run.route);
    await writeFile(join(dir, REPOSITORY_FILE), `${JSON.stringify(data, null, 2)}\n`, { flag: 'wx' });
    written = true;
  });
  return written;
}

/** The previous export's repository.json, re-serialized when it is a JSON object, else `{}`. */
async function carryRepository(previous: PreviousExport | undefined, dir: string): Promise<void> {
  let data: Item = {};
  const path = previous && (await regularFileUnder(previous.dir, [REPOSITORY_FILE]));
  if (path) {
    try {
      const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
      if (isItem(parsed)) data = parsed;
    } catch {
      // left empty: the next complete run writes it
    }
  }
  await writeFile(join(dir, REPOSITORY_FILE), `${JSON.stringify(data, null, 2)}\n`, { flag: 'wx' });
}

interface AssetInfo {
  releaseId: number;
  assetId: number;
  size: number;
  updatedAt: string;
}

/** The assets a releases file lists, checked field by field. */
async function* assetsOf(path: string): AsyncGenerator<AssetInfo & { missing: boolean }> {
  for await (const release of readItems(path)) {
    const releaseId = keyOf(release, 'id');
    if (releaseId === undefined || !Array.isArray(release.assets)) continue;
    for (const asset of release.assets) {
      if (!isItem(asset)) continue;
      const assetId = keyOf(asset, 'id');
      const { size, updated_at: updatedAt } = asset;
      if (assetId === undefined || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
        continue;
      yield {
        releaseId,
        assetId,
        size,
        updatedAt: typeof updatedAt === 'string' ? updatedAt : '',
        missing: typeof release[ADDED_FIELDS.missingSince] === 'string',
      };
    }
  }
}

const sameAsset = (a: AssetInfo, b: AssetInfo | undefined): boolean =>
  b !== undefined && a.releaseId === b.releaseId && a.size === b.size && a.updatedAt === b.updatedAt;

/** Moves (or copies across file systems) a carried asset into the export. */
async function carryFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
  }
}

/** Each release asset of the merged releases: carried from the previous export when unchanged,
 *  else downloaded (unless the run has stopped, or the release is gone from GitHub). */
async function placeAssets(
  run: Run,
  dir: string,
  previousAssets: Map<number, AssetInfo>,
): Promise<{ count: number; downloaded: number }> {
  let count = 0;
  let downloaded = 0;
  const { log } = run.options;
  for await (const asset of assetsOf(join(dir, kindFile('releases')))) {
    const relative = assetPath(asset.releaseId, asset.assetId);
    const file = join(dir, ...relative.split('/'));
    if (await lstat(file).catch(() => undefined)) continue; // listed twice: placed already
    const makeDir = () => mkdir(join(dir, ...relative.split('/').slice(0, -1)), { recursive: true });
    const carried = sameAsset(asset, previousAssets.get(asset.assetId))
      ? await previousAsset(run.previous, asset.releaseId, asset.assetId)
      : undefined;
    if (carried && (await lstat(carried)).size === asset.size) {
      await makeDir();
      await carryFile(carried, file);
      count++;
      continue;
    }
    if (asset.missing) {
      log(
        `asset ${asset.assetId} of release ${asset.releaseId}: not in the previous export, and the release is gone`,
      );
      continue;
    }
    await run.step('assets', async () => {
      await makeDir();
      await downloadAsset(
        run.options.api,
        { ...run.route, assetId: asset.assetId, size: asset.size, file },
        log,
      );
      count++;
      downloaded++;
    });
  }
  return { count, downloaded };
}

/** The previous export's assets by id, as its releases file lists them. */
async function previousAssetsOf(previous: PreviousExport | undefined): Promise<Map<number, AssetInfo>> {
  const assets = new Map<number, AssetInfo>();
  const path = previous && (await regularFileUnder(previous.dir, [kindFile('releases')]));
  if (path) for await (const asset of assetsOf(path)) assets.set(asset.assetId, asset);
  return assets;
}

export async function exportRepository(options: ExportOptions): Promise<ExportManifest> {
  const { api, owner, repo, dir, log } = options;
  const startedAt = (options.now ?? Date.now)();
  const exportedAt = isoSecond(startedAt);
  const repository = `${owner}/${repo}`;
  const previous = options.previous ? await openPrevious(options.previous, repository, log) : undefined;
  const old: ExportCursors = previous?.cursors ?? {};
  const limits = applyLimits(api, { log, maxWaitSeconds: options.maxWaitSeconds, sleep: options.sleep });
  const work = await mkdtemp(join(tmpdir(), 'r2-backup-github-'));
  const run = new Run(options, work, limits, previous);
  try {
    if (!(await fetchRepository(run, dir))) await carryRepository(previous, dir);
    await fetchWhole(run, 'labels', '/repos/{owner}/{repo}/labels');
    await fetchWhole(run, 'milestones', '/repos/{owner}/{repo}/milestones', { state: 'all' });
    await fetchWhole(run, 'releases', '/repos/{owner}/{repo}/releases');

    // GET /issues lists pull requests too: their issue side changed (labels, comments...), so
    // their reviews are fetched again; they are exported from GET /pulls only.
    let pullsFlagged = 0;
    for (const n of old.pending_reviews ?? []) run.reviewsWanted.add(n);
    await fetchSince(run, 'issues', '/repos/{owner}/{repo}/issues', old.issues, (item) => {
      const number = keyOf(item, 'number');
      if (number === undefined) return undefined;
      if (item.pull_request === undefined) return item;
      run.reviewsWanted.add(number);
      pullsFlagged++;
      return undefined;
    });
    if (pullsFlagged > 0 && run.complete.has('issues'))
      log(`issues: ${pullsFlagged} more listed that are pull requests (exported with the pulls)`);
    await fetchSince(
      run,
      'issue_comments',
      '/repos/{owner}/{repo}/issues/comments',
      old.issue_comments,
      (item) => {
        const number = numberAfter(item.issue_url, 'issues');
        return keyOf(item, 'id') === undefined || number === undefined
          ? undefined
          : { ...item, [ADDED_FIELDS.issueNumber]: number };
      },
    );
    await fetchPulls(run, old.pulls);
    await fetchReviews(run);
    await fetchSince(
      run,
      'review_comments',
      '/repos/{owner}/{repo}/pulls/comments',
      old.review_comments,
      (item) => {
        const number = numberAfter(item.pull_request_url, 'pulls');
        return keyOf(item, 'id') === undefined || number === undefined
          ? undefined
          : { ...item, [ADDED_FIELDS.pullNumber]: number };
      },
    );
    for (const writer of run.writers.values()) await writer.close();

    const previousAssets = await previousAssetsOf(previous);
    const counts = {} as ExportManifest['counts'];
    for (const kind of EXPORT_KINDS) {
      const whole = kind === 'labels' || kind === 'milestones' || kind === 'releases';
      const merged = await mergeKind({
        kind,
        fetched: run.fetchedFile(kind),
        previous: previousItems(previous, kind),
        out: join(dir, kindFile(kind)),
        missingSince: whole && run.complete.has(kind) ? exportedAt : undefined,
      });
      counts[kind] = merged.count;
      if (merged.newlyMissing > 0)
        log(`${kind}: ${merged.newlyMissing} no longer on GitHub, kept (missing since ${exportedAt})`);
    }
    if (previous && previous.skipped.lines > 0)
      log(
        `Previous metadata export: ${previous.skipped.lines} lines ignored (not an object with an integer key)`,
      );

    const before = limits.requests();
    const assets = await placeAssets(run, dir, previousAssets);
    counts.assets = assets.count;
    log(`assets: ${assets.count} (${assets.downloaded} downloaded, ${limits.requests() - before} requests)`);

    const manifest: ExportManifest = {
      format: EXPORT_FORMAT,
      repository,
      exported_at: exportedAt,
      ...(options.previous && previous ? { carried_from: options.previous.backupFile } : {}),
      partial: run.stopped !== undefined,
      ...(run.stopped
        ? {
            partial_reason: `${run.stopped.limit} rate limit, resets at ${run.stopped.resetAt.toISOString()}: ${run.stopped.message}`,
          }
        : {}),
      counts,
      cursors: nextCursors(run, old, isoSecond(startedAt - CURSOR_SKEW_MS)),
      requests: limits.requests(),
    };
    await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    log(
      `Metadata export of ${repository}: ${manifest.requests} API requests` +
        (manifest.partial ? `, partial (${manifest.partial_reason})` : ''),
    );
    return manifest;
  } finally {
    for (const writer of run.writers.values()) await writer.close().catch(() => {});
    limits.remove();
    await rm(work, { recursive: true, force: true });
  }
}

/** Where the next run starts: a kind read to the end from `base`; a kind cut short from the last
 *  item it read (ascending lists) or from where it started; reviews not fetched stay pending. */
function nextCursors(run: Run, old: ExportCursors, base: string): ExportCursors {
  const cursors: ExportCursors = {};
  for (const kind of ['issues', 'issue_comments', 'review_comments'] as const) {
    const cursor = run.complete.has(kind) ? base : (run.lastUpdated.get(kind) ?? old[kind]);
    if (cursor) cursors[kind] = cursor;
  }
  const pulls = run.complete.has('pulls') ? base : old.pulls;
  if (pulls) cursors.pulls = pulls;
  if (run.reviewsWanted.size > 0) cursors.pending_reviews = [...run.reviewsWanted].sort((a, b) => a - b);
  return cursors;
}
