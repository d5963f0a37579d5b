// The REST endpoints of the fake: reads (with GitHub's filters, sorting and pagination) and the
// writes that `replay` makes. Each handler turns a call into model reads or changes and a reply.
import {
  ModelError,
  missingField,
  type GitHubModel,
  type IssueInput,
  type RepositoryModel,
} from './model.js';
import { Router, type Call, type Reply } from './router.js';
import * as view from './views.js';
import type { Origins } from './views.js';

type Json = Record<string, unknown>;

const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;

/** One page of `items` and, when there is more than one page, GitHub's Link header. */
export function paginate<T>(
  call: Call,
  origin: string,
  items: T[],
): { page: T[]; headers: Record<string, string> } {
  const asked = Number.parseInt(call.url.searchParams.get('per_page') ?? '', 10);
  const perPage = Number.isFinite(asked) && asked > 0 ? Math.min(asked, MAX_PER_PAGE) : DEFAULT_PER_PAGE;
  const askedPage = Number.parseInt(call.url.searchParams.get('page') ?? '', 10);
  const page = Number.isFinite(askedPage) && askedPage > 0 ? askedPage : 1;
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (last === 1 && page === 1) return { page: slice, headers: {} };
  const at = (n: number): string => {
    const url = new URL(call.url.pathname + call.url.search, origin);
    url.searchParams.set('page', String(n));
    return url.toString();
  };
  // GitHub's order: prev, next, last, first.
  const links: string[] = [];
  if (page > 1) links.push(`<${at(Math.min(page - 1, last))}>; rel="prev"`);
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`);
  return { page: slice, headers: { link: links.join(', ') } };
}

const isoOrFail = (value: string | null, field: string): number | undefined => {
  if (value === null) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new ModelError(422, 'Validation Failed', [{ resource: 'Search', code: 'invalid', field }]);
  return ms;
};

/** Sorts by a time field then by id, ascending or descending as GitHub's `direction`. */
function sortBy<T extends { id: number }>(
  items: T[],
  key: (item: T) => string,
  direction: 'asc' | 'desc',
): T[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => sign * (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id - b.id));
}

const direction = (call: Call, fallback: 'asc' | 'desc'): 'asc' | 'desc' => {
  const asked = call.url.searchParams.get('direction');
  return asked === 'asc' || asked === 'desc' ? asked : fallback;
};

const stateFilter = (call: Call): ((state: 'open' | 'closed') => boolean) => {
  const asked = call.url.searchParams.get('state') ?? 'open';
  return (state) => asked === 'all' || state === asked;
};

const sinceFilter = (call: Call): ((updatedAt: string) => boolean) => {
  const since = isoOrFail(call.url.searchParams.get('since'), 'since');
  return (updatedAt) => since === undefined || Date.parse(updatedAt) >= since;
};

function jsonBody(call: Call): Json {
  if (call.body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(call.body.toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // answered below
  }
  throw new BadRequest();
}

/** A body that is not a JSON object: GitHub's 400. */
export class BadRequest extends Error {
  constructor() {
    super('Problems parsing JSON');
  }
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const strOrNull = (value: unknown): string | null | undefined =>
  value === null ? null : typeof value === 'string' ? value : undefined;
const bool = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);
const labelNames = (value: unknown): string[] | undefined =>
  Array.isArray(value)
    ? value.map((l: unknown) => (typeof l === 'string' ? l : String((l as { name?: unknown }).name)))
    : undefined;
const milestoneNumber = (value: unknown): number | null | undefined =>
  value === null ? null : value === undefined ? undefined : Number(value);

function issueInput(body: Json): IssueInput {
  const input: IssueInput = {};
  if (body.title !== undefined) input.title = String(body.title);
  if (body.body !== undefined) input.body = strOrNull(body.body) ?? null;
  if (body.state !== undefined) input.state = body.state as IssueInput['state'];
  if (body.state_reason !== undefined) input.state_reason = body.state_reason as IssueInput['state_reason'];
  const labels = labelNames(body.labels);
  if (labels) input.labels = labels;
  const milestone = milestoneNumber(body.milestone);
  if (milestone !== undefined) input.milestone = milestone;
  return input;
}

const numberParam = (call: Call, name: string): number => {
  const value = call.params[name] ?? '';
  if (!/^\d+$/.test(value)) throw new ModelError(404, 'Not Found');
  return Number(value);
};

/** The API listener's routes. `downloadUrl` is where an asset's bytes are (another origin). */
export function apiRoutes(
  model: GitHubModel,
  origins: Origins,
  downloadUrl: (assetId: number) => string,
  /** The token's user: GET /user, and the author of what the API creates. */
  login: string,
): Router {
  const repoOf = (call: Call): RepositoryModel => {
    const found = model.find(`${call.params.owner}/${call.params.repo}`);
    if (!found) throw new ModelError(404, 'Not Found');
    return found;
  };
  const list = <T>(call: Call, items: T[], render: (item: T) => unknown): Reply => {
    const { page, headers } = paginate(call, origins.api, items);
    return { status: 200, body: page.map(render), headers };
  };
  const created = (body: Json): Reply => ({ status: 201, body, headers: { location: String(body.url) } });
  const R = '/repos/:owner/:repo';

  return (
    new Router()
      // ---- the token's user (a personal token's; an installation token gets 403 on GitHub)
      .on('GET', '/user', () => ({ status: 200, body: view.user(origins, login) }))
      // ---- repository
      .on('GET', R, (call) => ({ status: 200, body: view.repository(origins, repoOf(call)) }))
      .on('GET', `${R}/topics`, (call) => ({
        status: 200,
        body: { names: [...repoOf(call).settings.topics] },
      }))
      // ---- labels
      .on('GET', `${R}/labels`, (call) => {
        const repo = repoOf(call);
        return list(call, repo.labels, (l) => view.label(origins, repo, l));
      })
      .on('GET', `${R}/labels/:name`, (call) => {
        const repo = repoOf(call);
        return { status: 200, body: view.label(origins, repo, repo.label(call.params.name!)) };
      })
      .on('POST', `${R}/labels`, (call) => {
        const repo = repoOf(call);
        const body = jsonBody(call);
        const name = str(body.name);
        if (!name) throw missingField('Label', 'name');
        const l = repo.addLabel({ name, color: str(body.color), description: strOrNull(body.description) });
        return created(view.label(origins, repo, l));
      })
      .on('PATCH', `${R}/labels/:name`, (call) => {
        const repo = repoOf(call);
        const body = jsonBody(call);
        const l = repo.updateLabel(call.params.name!, {
          new_name: str(body.new_name),
          color: str(body.color),
          description: strOrNull(body.description),
        });
        return { status: 200, body: view.label(origins, repo, l) };
      })
      .on('DELETE', `${R}/labels/:name`, (call) => {
        repoOf(call).deleteLabel(call.params.name!);
        return { status: 204 };
      })
      // ---- milestones
      .on('GET', `${R}/milestones`, (call) => {
        const repo = repoOf(call);
        const state = stateFilter(call);
        const dueOrLast = (m: { due_on: string | null }): string => m.due_on ?? '\uffff';
        const sorted = sortBy(
          repo.milestones.filter((m) => state(m.state)),
          call.url.searchParams.get('sort') === 'completeness' ? (m) => String(m.number) : dueOrLast,
          direction(call, 'asc'),
        );
        return list(call, sorted, (m) => view.milestone(origins, repo, m));
      })
      .on('GET', `${R}/milestones/:number`, (call) => {
        const repo = repoOf(call);
        return {
          status: 200,
          body: view.milestone(origins, repo, repo.milestone(numberParam(call, 'number'))),
        };
      })
      .on('POST', `${R}/milestones`, (call) => {
        const repo = repoOf(call);
        const body = jsonBody(call);
        const title = str(body.title);
        if (!title) throw missingField('Milestone', 'title');
        const m = repo.addMilestone({
          title,
          description: strOrNull(body.description),
          state: body.state === 'closed' ? 'closed' : 'open',
          due_on: strOrNull(body.due_on),
        });
        return created(view.milestone(origins, repo, m));
      })
      .on('PATCH', `${R}/milestones/:number`, (call) => {
        const repo = repoOf(call);
        const body = jsonBody(call);
        const change: Parameters<RepositoryModel['updateMilestone']>[1] = {};
        if (str(body.title) !== undefined) change.title = str(body.title)!;
        if (body.description !== undefined) change.description = strOrNull(body.description) ?? null;
        if (body.state === 'open' || body.state === 'closed') change.state = body.state;
        if (body.due_on !== undefined) change.due_on = strOrNull(body.due_on) ?? null;
        const m = repo.updateMilestone(numberParam(call, 'number'), change);
        return { status: 200, body: view.milestone(origins, repo, m) };
      })
      // ---- issues (and pull requests, as GitHub lists them)
      .on('GET', `${R}/issues/comments`, (call) => {
        const repo = repoOf(call);
        const since = sinceFilter(call);
        const sort = call.url.searchParams.get('sort');
        // GitHub ignores direction without sort; the default is oldest first.
        const sorted = sortBy(
          repo.issueComments.filter((c) => since(c.updated_at)),
          (c) => (sort === 'updated' ? c.updated_at : c.created_at),
          sort ? direction(call, 'desc') : 'asc',
        );
        return list(call, sorted, (c) => view.issueComment(origins, repo, c));
      })
      .on('GET', `${R}/issues/comments/:id`, (call) => {
        const repo = repoOf(call);
        return {
          status: 200,
          body: view.issueComment(origins, repo, repo.issueComment(numberParam(call, 'id'))),
        };
      })
      .on('PATCH', `${R}/issues/comments/:id`, (call) => {
        const repo = repoOf(call);
        const body = str(jsonBody(call).body);
        if (!body) throw missingField('IssueComment', 'body');
        const c = repo.updateIssueComment(numberParam(call, 'id'), body);
        return { status: 200, body: view.issueComment(origins, repo, c) };
      })
      .on('GET', `${R}/issues`, (call) => {
        const repo = repoOf(call);
        const state = stateFilter(call);
        const since = sinceFilter(call);
        const sort = call.url.searchParams.get('sort');
        const sorted = sortBy(
          [...repo.items.values()].filter((i) => state(i.state) && since(i.updated_at)),
          (i) => (sort === 'updated' ? i.updated_at : i.created_at),
          direction(call, 'desc'),
        );
        return list(call, sorted, (i) => view.issue(origins, repo, i));
      })
      .on('GET', `${R}/issues/:number`, (call) => {
        const repo = repoOf(call);
        return { status: 200, body: view.issue(origins, repo, repo.item(numberParam(call, 'number'))) };
      })
      .on('POST', `${R}/issues`, (call) => {
        const repo = repoOf(call);
        const input = issueInput(jsonBody(call));
        if (!input.title) throw missingField('Issue', 'title');
        // GitHub opens new issues whatever the body says; PATCH closes them.
        delete input.state;
        delete input.state_reason;
        return created(view.issue(origins, repo, repo.addIssue({ ...input, user: login })));
      })
      .on('PATCH', `${R}/issues/:number`, (call) => {
        const repo = repoOf(call);
        const i = repo.updateIssue(numberParam(call, 'number'), issueInput(jsonBody(call)));
        return { status: 200, body: view.issue(origins, repo, i) };
      })
      .on('GET', `${R}/issues/:number/comments`, (call) => {
        const repo = repoOf(call);
        const number = numberParam(call, 'number');
        repo.item(number);
        const since = sinceFilter(call);
        const comments = repo.issueComments.filter((c) => c.issue_number === number && since(c.updated_at));
        return list(call, comments, (c) => view.issueComment(origins, repo, c));
      })
      .on('POST', `${R}/issues/:number/comments`, (call) => {
        const repo = repoOf(call);
        const body = str(jsonBody(call).body);
        if (!body) throw missingField('IssueComment', 'body');
        return created(
          view.issueComment(
            origins,
            repo,
            repo.addIssueComment(numberParam(call, 'number'), { body, user: login }),
          ),
        );
      })
      // ---- pull requests
      .on('GET', `${R}/pulls/comments`, (call) => {
        const repo = repoOf(call);
        const since = sinceFilter(call);
        const sort = call.url.searchParams.get('sort');
        const sorted = sortBy(
          repo.reviewComments.filter((c) => since(c.updated_at)),
          (c) => (sort === 'updated' ? c.updated_at : c.created_at),
          sort ? direction(call, 'desc') : 'asc',
        );
        return list(call, sorted, (c) => view.reviewComment(origins, repo, c));
      })
      .on('GET', `${R}/pulls`, (call) => {
        const repo = repoOf(call);
        const state = stateFilter(call);
        const sort = call.url.searchParams.get('sort');
        // GitHub: desc when sorting by creation (the default), asc otherwise.
        const fallback = sort === null || sort === 'created' ? 'desc' : 'asc';
        const sorted = sortBy(
          [...repo.items.values()].filter((i) => i.pull && state(i.state)),
          (i) => (sort === 'updated' ? i.updated_at : i.created_at),
          direction(call, fallback),
        );
        return list(call, sorted, (i) => view.pull(origins, repo, i, false));
      })
      .on('GET', `${R}/pulls/:number`, (call) => {
        const repo = repoOf(call);
        return { status: 200, body: view.pull(origins, repo, repo.pull(numberParam(call, 'number')), true) };
      })
      .on('GET', `${R}/pulls/:number/reviews`, (call) => {
        const repo = repoOf(call);
        const number = numberParam(call, 'number');
        repo.pull(number);
        const reviews = repo.reviews.filter((r) => r.pull_number === number);
        return list(call, reviews, (r) => view.review(origins, repo, r));
      })
      .on('GET', `${R}/pulls/:number/comments`, (call) => {
        const repo = repoOf(call);
        const number = numberParam(call, 'number');
        repo.pull(number);
        const comments = repo.reviewComments.filter((c) => c.pull_number === number);
        return list(call, comments, (c) => view.reviewComment(origins, repo, c));
      })
      // ---- releases and assets
      .on('GET', `${R}/releases`, (call) => {
        const repo = repoOf(call);
        const newestFirst = sortBy(repo.releases, (r) => r.created_at, 'desc');
        return list(call, newestFirst, (r) => view.release(origins, repo, r));
      })
      .on('POST', `${R}/releases`, (call) => {
        const repo = repoOf(call);
        const body = jsonBody(call);
        const tag = str(body.tag_name);
        if (!tag) throw missingField('Release', 'tag_name');
        const r = repo.addRelease({
          tag_name: tag,
          target_commitish: str(body.target_commitish),
          name: strOrNull(body.name),
          body: strOrNull(body.body),
          draft: bool(body.draft),
          prerelease: bool(body.prerelease),
          author: login,
        });
        return created(view.release(origins, repo, r));
      })
      .on('GET', `${R}/releases/assets/:id`, (call) => {
        const repo = repoOf(call);
        const { release, asset } = repo.asset(numberParam(call, 'id'));
        if (String(call.headers.accept ?? '').includes('application/octet-stream')) {
          asset.download_count++;
          return { status: 302, headers: { location: downloadUrl(asset.id) } };
        }
        return { status: 200, body: view.asset(origins, repo, release, asset) };
      })
      .on('GET', `${R}/releases/tags/:tag`, (call) => {
        const repo = repoOf(call);
        const r = repo.releases.find((x) => x.tag_name === call.params.tag);
        if (!r) throw new ModelError(404, 'Not Found');
        return { status: 200, body: view.release(origins, repo, r) };
      })
      .on('GET', `${R}/releases/:id`, (call) => {
        const repo = repoOf(call);
        return { status: 200, body: view.release(origins, repo, repo.release(numberParam(call, 'id'))) };
      })
      .on('PATCH', `${R}/releases/:id`, (call) => {
        const repo = repoOf(call);
        const body = jsonBody(call);
        const change: Parameters<RepositoryModel['updateRelease']>[1] = {};
        if (str(body.tag_name) !== undefined) change.tag_name = str(body.tag_name)!;
        if (str(body.target_commitish) !== undefined) change.target_commitish = str(body.target_commitish)!;
        if (body.name !== undefined) change.name = strOrNull(body.name) ?? null;
        if (body.body !== undefined) change.body = strOrNull(body.body) ?? null;
        if (bool(body.draft) !== undefined) change.draft = bool(body.draft)!;
        if (bool(body.prerelease) !== undefined) change.prerelease = bool(body.prerelease)!;
        const r = repo.updateRelease(numberParam(call, 'id'), change);
        return { status: 200, body: view.release(origins, repo, r) };
      })
      .on('GET', `${R}/releases/:id/assets`, (call) => {
        const repo = repoOf(call);
        const r = repo.release(numberParam(call, 'id'));
        return list(call, r.assets, (a) => view.asset(origins, repo, r, a));
      })
  );
}

/** The uploads listener: POST {upload_url without the template}?name=&label= with the bytes. */
export function uploadRoutes(model: GitHubModel, origins: Origins): Router {
  return new Router().on('POST', '/repos/:owner/:repo/releases/:id/assets', (call) => {
    const repo = model.find(`${call.params.owner}/${call.params.repo}`);
    if (!repo) throw new ModelError(404, 'Not Found');
    const name = call.url.searchParams.get('name');
    if (!name) throw missingField('ReleaseAsset', 'name');
    const release = repo.release(numberParam(call, 'id'));
    const asset = repo.addAsset(release.id, {
      name,
      label: call.url.searchParams.get('label'),
      content_type: String(call.headers['content-type'] ?? 'application/octet-stream'),
      bytes: call.body,
    });
    return { status: 201, body: view.asset(origins, repo, release, asset) };
  });
}
