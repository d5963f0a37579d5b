// `replay`: recreates a metadata export's labels, milestones, issues with their comments, and
// releases with their assets in a target repository. It reads what the target already has first
// (replay-plan.ts): a second run, or the run after one cut short, creates only what is missing.
// Writes go one at a time with a pause between them, as GitHub asks of content-creating requests.
import { createReadStream } from 'node:fs';
import type { GitHubApi } from './client.js';
import { markedId, type MarkerKind } from './markers.js';
import { isItem } from './jsonl.js';
import { replayedBody } from './replay-bodies.js';
import {
  readReplayExport,
  type ReplayAsset,
  type ReplayComment,
  type ReplayExport,
} from './replay-export.js';
import {
  planReplay,
  plannedWrites,
  type ReplayPlan,
  type TargetRelease,
  type TargetState,
} from './replay-plan.js';
import { NotFoundError } from '../errors.js';

export interface Repository {
  owner: string;
  repo: string;
}

export interface ReplayOptions {
  api: GitHubApi;
  /** An extracted metadata export (its manifest.json, {kind}.jsonl and assets/). */
  exportDir: string;
  to: Repository;
  /** Read the target and plan, write nothing. */
  dryRun: boolean;
  /** Progress: one line per item created. */
  log: (line: string) => void;
  warn: (message: string) => void;
  /** The pause between two writes (GitHub: "at least one second"). */
  writeGapMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type ReplayKind = 'labels' | 'milestones' | 'issues' | 'comments' | 'releases' | 'assets';

export interface ReplayResult {
  plan: ReplayPlan;
  dryRun: boolean;
  created: Record<ReplayKind, number>;
  /** Replayed issues closed as their originals are. */
  closed: number;
  /** Items GitHub refused (422: a release's commit missing in the target, for example). */
  failed: { kind: ReplayKind; item: string; reason: string }[];
}

/** A replay stopped by an error (a rate limit it could not wait for): running it again finishes it. */
export class ReplayInterruptedError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly result: ReplayResult,
  ) {
    const done = Object.values(result.created).reduce((a, b) => a + b, 0) + result.closed;
    super(
      `${(cause as Error)?.message ?? String(cause)}. The replay stopped after ${done} of ${plannedWrites(result.plan)} ` +
        'writes; run it again to finish (what was created is found by its marker, not created twice)',
      { cause },
    );
    this.name = 'ReplayInterruptedError';
  }
}

export const DEFAULT_WRITE_GAP_MS = 1000;

const statusOf = (error: unknown): number | undefined => (error as { status?: number })?.status;

interface ListedIssue {
  number: number;
  state: string;
  body?: string | null;
  pull_request?: unknown;
  user?: unknown;
}
interface ListedRelease {
  id: number;
  tag_name: string;
  body?: string | null;
  author?: unknown;
  upload_url: string;
  assets?: { name: string }[];
}

/**
 * Whose markers count: what this replay's token wrote (GET /user), or any bot's when the token
 * cannot say (an installation token, such as a workflow's GITHUB_TOKEN, gets 403 there). Anyone
 * who can open an issue in the target could otherwise end its body with the marker of a source
 * issue and take its place: the replay would create nothing for it and comment on theirs.
 */
async function markerAuthors(api: GitHubApi): Promise<(author: unknown) => boolean> {
  try {
    const { data } = await api.request('GET /user');
    const login = (data as { login?: unknown }).login;
    return (author) => isItem(author) && typeof login === 'string' && author.login === login;
  } catch (error) {
    if (![401, 403, 404].includes(statusOf(error) ?? 0)) throw error;
    return (author) => isItem(author) && author.type === 'Bot';
  }
}

/** What the target already has of this export (the source's items found by their markers, on
 *  items this replay's writer wrote). */
async function readTarget(
  api: GitHubApi,
  to: Repository,
  exported: ReplayExport,
  warn: (message: string) => void,
): Promise<TargetState> {
  const { source } = exported;
  const ours = await markerAuthors(api);
  /** The marked id of an item if its author may mark it; a marker by anyone else is said and ignored. */
  const markedBy = (what: string, body: unknown, author: unknown, kind: MarkerKind): number | undefined => {
    const id = markedId(body, kind, source);
    if (id === undefined || ours(author)) return id;
    const login = isItem(author) ? String(author.login) : 'someone unknown';
    warn(
      `${what} in ${to.owner}/${to.repo} ends with the marker of ${kind} ${id} of ${source} but was written by ${login}, not by this replay's writer: ignored`,
    );
    return undefined;
  };
  try {
    await api.request('GET /repos/{owner}/{repo}', { ...to });
  } catch (error) {
    if (statusOf(error) === 404)
      throw new NotFoundError(
        `The target repository ${to.owner}/${to.repo} was not found (or the token cannot see it)`,
      );
    throw error;
  }
  const page = { ...to, per_page: 100 };
  const labels = (await api.paginate('GET /repos/{owner}/{repo}/labels', page)) as { name: string }[];
  const milestones = (await api.paginate('GET /repos/{owner}/{repo}/milestones', {
    ...page,
    state: 'all',
  })) as {
    title: string;
    number: number;
  }[];
  const issues = new Map<number, { number: number; state: string }>();
  for (const issue of (await api.paginate('GET /repos/{owner}/{repo}/issues', {
    ...page,
    state: 'all',
  })) as ListedIssue[]) {
    const id = issue.pull_request
      ? undefined
      : markedBy(`Issue #${issue.number}`, issue.body, issue.user, 'issue');
    if (id !== undefined && !issues.has(id)) issues.set(id, { number: issue.number, state: issue.state });
  }
  // Comments are listed only on replayed issues that should have some.
  const comments = new Set<number>();
  for (const number of new Set(exported.comments.map((c) => c.issue_number))) {
    const replayed = issues.get(number);
    if (!replayed) continue;
    const listed = (await api.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...page,
      issue_number: replayed.number,
    })) as { body?: string | null; user?: unknown }[];
    for (const comment of listed) {
      const id = markedBy(`A comment on #${replayed.number}`, comment.body, comment.user, 'comment');
      if (id !== undefined) comments.add(id);
    }
  }
  const releases = new Map<number, TargetRelease>();
  const otherReleaseTags = new Set<string>();
  for (const release of (await api.paginate('GET /repos/{owner}/{repo}/releases', page)) as ListedRelease[]) {
    const id = markedBy(`Release ${release.tag_name}`, release.body, release.author, 'release');
    if (id === undefined) otherReleaseTags.add(release.tag_name);
    else
      releases.set(id, {
        id: release.id,
        upload_url: release.upload_url,
        assets: new Set((release.assets ?? []).map((a) => a.name)),
      });
  }
  return {
    labels: new Set(labels.map((l) => l.name.toLowerCase())),
    milestones: new Map(milestones.map((m) => [m.title, m.number])),
    issues,
    comments,
    releases,
    otherReleaseTags,
  };
}

/** GitHub's state reasons a close accepts ('reopened' belongs to open issues). */
const CLOSE_REASONS = ['completed', 'not_planned', 'duplicate'] as const;

/** The file's bytes as a request body that can be read again: a retry after a secondary rate
 *  limit opens the file anew instead of sending a spent stream. Not a plain object, which
 *  Octokit would send as JSON. */
class FileBody {
  constructor(private readonly file: string) {}
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return createReadStream(this.file)[Symbol.asyncIterator]();
  }
}

/** The upload address is GitHub's answer: the token goes only to the API's own host (a GitHub
 *  Enterprise Server's), or to uploads.github.com for api.github.com. */
function checkUploadUrl(api: GitHubApi, uploadUrl: string): string {
  const template = uploadUrl.replace(/\{[^}]*\}$/, '');
  const apiHost = new URL(api.request.endpoint.DEFAULTS.baseUrl).hostname;
  const host = new URL(template).hostname;
  if (host !== apiHost && !(apiHost === 'api.github.com' && host === 'uploads.github.com'))
    throw new Error(`The release's upload address ${template} is not on ${apiHost}`);
  return template;
}

export async function replayExport(options: ReplayOptions): Promise<ReplayResult> {
  const { api, to, log, warn } = options;
  const target = `${to.owner}/${to.repo}`;
  const exported = await readReplayExport(options.exportDir, warn);
  const state = await readTarget(api, to, exported, warn);
  const plan = planReplay(exported, target, state);
  const result: ReplayResult = {
    plan,
    dryRun: options.dryRun,
    created: { labels: 0, milestones: 0, issues: 0, comments: 0, releases: 0, assets: 0 },
    closed: 0,
    failed: [],
  };
  if (options.dryRun) return result;

  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const gapMs = options.writeGapMs ?? DEFAULT_WRITE_GAP_MS;
  let writes = 0;
  /** One write at a time, a pause before each but the first; a 422 is that item's failure. */
  const write = async <T>(kind: ReplayKind, item: string, send: () => Promise<T>): Promise<T | undefined> => {
    if (writes++ > 0 && gapMs > 0) await sleep(gapMs);
    try {
      return await send();
    } catch (error) {
      if (statusOf(error) !== 422) throw error;
      const reason = (error as Error).message;
      result.failed.push({ kind, item, reason });
      warn(`GitHub refused ${item}: ${reason}`);
      return undefined;
    }
  };
  const { source } = exported;
  try {
    for (const label of plan.labels.create) {
      const what = `label ${JSON.stringify(label.name)}`;
      if (
        await write('labels', what, () =>
          api.request('POST /repos/{owner}/{repo}/labels', {
            ...to,
            name: label.name,
            color: label.color,
            ...(label.description !== null && { description: label.description }),
          }),
        )
      ) {
        result.created.labels++;
        state.labels.add(label.name.toLowerCase());
        log(`created ${what}`);
      }
    }
    for (const milestone of plan.milestones.create) {
      const what = `milestone ${JSON.stringify(milestone.title)}`;
      const created = await write('milestones', what, () =>
        api.request('POST /repos/{owner}/{repo}/milestones', {
          ...to,
          title: milestone.title,
          state: milestone.state,
          ...(milestone.description !== null && { description: milestone.description }),
          ...(milestone.due_on !== null && { due_on: milestone.due_on }),
        }),
      );
      if (created) {
        result.created.milestones++;
        state.milestones.set(milestone.title, (created.data as { number: number }).number);
        log(`created ${what}`);
      }
    }

    const close = async (number: number, original: { number: number; state_reason: string | null }) => {
      const reason = CLOSE_REASONS.find((r) => r === original.state_reason);
      const closed = await write('issues', `the close of issue #${original.number}`, () =>
        api.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
          ...to,
          issue_number: number,
          state: 'closed',
          ...(reason !== undefined && { state_reason: reason }),
        }),
      );
      if (closed) {
        result.closed++;
        log(`closed the replay of issue #${original.number}${reason === undefined ? '' : ` (${reason})`}`);
      }
    };
    const commentsOf = new Map<number, ReplayComment[]>();
    for (const c of plan.comments.create) {
      if (!commentsOf.has(c.issue_number)) commentsOf.set(c.issue_number, []);
      commentsOf.get(c.issue_number)!.push(c);
    }
    const toCreate = new Set(plan.issues.create);
    const toClose = new Set(plan.close.map((i) => i.number));
    for (const issue of exported.issues) {
      let replayed = state.issues.get(issue.number);
      if (toCreate.has(issue)) {
        const what = `issue #${issue.number}`;
        const milestone = issue.milestone === null ? undefined : state.milestones.get(issue.milestone);
        const created = await write('issues', what, () =>
          api.request('POST /repos/{owner}/{repo}/issues', {
            ...to,
            title: issue.title,
            body: replayedBody('issue', source, issue.number, `${source}#${issue.number}`, issue, issue.body),
            labels: issue.labels.filter((name) => state.labels.has(name.toLowerCase())),
            ...(milestone !== undefined && { milestone }),
          }),
        );
        if (!created) continue;
        replayed = { number: (created.data as { number: number }).number, state: 'open' };
        state.issues.set(issue.number, replayed);
        result.created.issues++;
        log(`created ${what} as #${replayed.number}`);
      }
      if (!replayed) continue;
      for (const comment of commentsOf.get(issue.number) ?? []) {
        const what = `comment ${comment.id} on issue #${issue.number}`;
        const place = `${source}#${issue.number} (comment ${comment.id})`;
        const created = await write('comments', what, () =>
          api.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
            ...to,
            issue_number: replayed.number,
            body: replayedBody('comment', source, comment.id, place, comment, comment.body),
          }),
        );
        if (created) {
          result.created.comments++;
          log(`created ${what}`);
        }
      }
      // Closed after its comments, as the original was.
      if (issue.state === 'closed' && (toCreate.has(issue) || toClose.has(issue.number))) {
        await close(replayed.number, issue);
      }
    }

    for (const release of exported.releases) {
      if (plan.tagTaken.includes(release)) continue;
      let replayed = state.releases.get(release.id);
      if (!replayed) {
        const what = `release ${JSON.stringify(release.tag_name)}`;
        const place = `${source} release ${release.tag_name}`;
        const created = await write('releases', what, () =>
          api.request('POST /repos/{owner}/{repo}/releases', {
            ...to,
            tag_name: release.tag_name,
            ...(release.target_commitish !== null && { target_commitish: release.target_commitish }),
            ...(release.name !== null && { name: release.name }),
            body: replayedBody('release', source, release.id, place, release, release.body),
            draft: release.draft,
            prerelease: release.prerelease,
          }),
        );
        if (!created) continue;
        const data = created.data as { id: number; upload_url: string };
        replayed = { id: data.id, upload_url: data.upload_url, assets: new Set() };
        state.releases.set(release.id, replayed);
        result.created.releases++;
        log(`created ${what}`);
      }
      for (const asset of release.assets) {
        if (replayed.assets.has(asset.name)) continue;
        if (await uploadAsset(api, replayed, asset, write)) {
          replayed.assets.add(asset.name);
          result.created.assets++;
          log(`uploaded asset ${JSON.stringify(asset.name)} of release ${JSON.stringify(release.tag_name)}`);
        }
      }
    }
  } catch (error) {
    throw new ReplayInterruptedError(error, result);
  }
  return result;
}

function uploadAsset(
  api: GitHubApi,
  release: TargetRelease,
  asset: ReplayAsset,
  write: <T>(kind: ReplayKind, item: string, send: () => Promise<T>) => Promise<T | undefined>,
): Promise<unknown> {
  const url = checkUploadUrl(api, release.upload_url);
  return write('assets', `asset ${JSON.stringify(asset.name)}`, () =>
    api.request({
      method: 'POST',
      url: `${url}{?name,label}`,
      name: asset.name,
      ...(asset.label !== null && { label: asset.label }),
      headers: { 'content-type': asset.content_type, 'content-length': String(asset.size) },
      data: new FileBody(asset.file),
    }),
  );
}
