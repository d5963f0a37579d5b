// The fake GitHub's read endpoints through a real client (@octokit/core with the pagination
// plugin): pages and Link headers, since=, issues and pull requests in one list, asset redirects.
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';
import { assetContent } from '../helpers/github-api/seed.js';

const Client = Octokit.plugin(paginateRest);
type Item = { number: number; updated_at: string; pull_request?: unknown; title: string };

let github: FakeGitHub;
let octokit: InstanceType<typeof Client>;

beforeAll(async () => {
  github = await startFakeGitHub();
  octokit = new Client({ auth: github.token, baseUrl: github.apiUrl });
});
afterAll(() => github.stop());
beforeEach(() => github.requests.reset());

test('1,000 issues and 300 pull requests: paginated by 100, issues and pull requests in one list', async () => {
  const started = Date.now();
  github.seed('acme/big', { issues: 1000, pulls: 300, labels: 5, milestones: 3 });
  expect(Date.now() - started).toBeLessThan(2000);

  const items = (await octokit.paginate('GET /repos/{owner}/{repo}/issues', {
    owner: 'acme',
    repo: 'big',
    state: 'all',
    per_page: 100,
  })) as Item[];
  expect(items).toHaveLength(1300);
  expect(new Set(items.map((i) => i.number)).size).toBe(1300);
  expect(items.filter((i) => i.pull_request).length).toBe(300);
  expect(github.requests.count({ path: '/repos/acme/big/issues' })).toBe(13);

  const pulls = await octokit.paginate('GET /repos/{owner}/{repo}/pulls', {
    owner: 'acme',
    repo: 'big',
    state: 'all',
    per_page: 100,
  });
  expect(pulls).toHaveLength(300);
  expect(github.requests.count({ path: '/repos/acme/big/pulls' })).toBe(3);
});

test('Link header: next and last on the first page; prev, next, last and first in the middle; none for one page', async () => {
  github.seed('acme/links', { issues: 7, closedEvery: 0 });
  const first = await octokit.request('GET /repos/{owner}/{repo}/issues', {
    owner: 'acme',
    repo: 'links',
    per_page: 3,
  });
  const base = `${github.apiUrl}/repos/acme/links/issues?per_page=3`;
  expect(first.headers.link).toBe(`<${base}&page=2>; rel="next", <${base}&page=3>; rel="last"`);
  const middle = await octokit.request('GET /repos/{owner}/{repo}/issues', {
    owner: 'acme',
    repo: 'links',
    per_page: 3,
    page: 2,
  });
  expect(middle.headers.link).toBe(
    `<${base}&page=1>; rel="prev", <${base}&page=3>; rel="next", <${base}&page=3>; rel="last", <${base}&page=1>; rel="first"`,
  );
  const single = await octokit.request('GET /repos/{owner}/{repo}/issues', { owner: 'acme', repo: 'links' });
  expect(single.data).toHaveLength(7);
  expect(single.headers.link).toBeUndefined();
  // per_page defaults to 30 and stops at 100.
  github.seed('acme/links', { issues: 150, closedEvery: 0 });
  const capped = await octokit.request('GET /repos/{owner}/{repo}/issues', {
    owner: 'acme',
    repo: 'links',
    per_page: 500,
  });
  expect(capped.data).toHaveLength(100);
  const byDefault = await octokit.request('GET /repos/{owner}/{repo}/issues', {
    owner: 'acme',
    repo: 'links',
  });
  expect(byDefault.data).toHaveLength(30);
});

test('since= keeps what was updated at or after it; a change moves an item past it', async () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clocked = await startFakeGitHub({ now: () => now });
  try {
    const client = new Client({ auth: clocked.token, baseUrl: clocked.apiUrl });
    const repo = clocked.seed('acme/since', { issues: 10, commentsPerIssue: 1, closedEvery: 0 });
    const ascending = [...repo.items.values()].sort((a, b) => a.updated_at.localeCompare(b.updated_at));
    const cut = ascending[6]!.updated_at;
    const since = (await client.paginate('GET /repos/{owner}/{repo}/issues', {
      owner: 'acme',
      repo: 'since',
      state: 'all',
      since: cut,
    })) as Item[];
    expect(since.map((i) => i.number).sort((a, b) => a - b)).toEqual(
      ascending
        .slice(6)
        .map((i) => i.number)
        .sort((a, b) => a - b),
    );

    now += 60_000;
    repo.updateIssue(1, { title: 'Edited' });
    repo.addIssueComment(2, { body: 'New comment' });
    const after = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const changed = (await client.paginate('GET /repos/{owner}/{repo}/issues', {
      owner: 'acme',
      repo: 'since',
      state: 'all',
      since: after,
      sort: 'updated',
      direction: 'asc',
    })) as Item[];
    expect(changed.map((i) => [i.number, i.updated_at])).toEqual([
      [1, after],
      [2, after],
    ]);
    const comments = await client.paginate('GET /repos/{owner}/{repo}/issues/comments', {
      owner: 'acme',
      repo: 'since',
      since: after,
    });
    expect(comments.map((c) => c.body)).toEqual(['New comment']);
  } finally {
    await clocked.stop();
  }
});

test('an asset: JSON by default; its bytes through a redirect to another origin that gets no token', async () => {
  const repo = github.seed('acme/assets', { releases: 2, assetsPerRelease: 2, assetBytes: 5000 });
  const releases = await octokit.request('GET /repos/{owner}/{repo}/releases', {
    owner: 'acme',
    repo: 'assets',
  });
  expect(releases.data.map((r) => r.tag_name)).toEqual(['v2.0.0', 'v1.0.0']);
  const asset = releases.data[1]!.assets[0]!;
  expect(asset.size).toBe(5000);

  const json = await octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
    owner: 'acme',
    repo: 'assets',
    asset_id: asset.id,
  });
  expect(json.data.name).toBe(asset.name);

  // Octokit's request is fetch following the redirect: fetch drops authorization on a cross-origin redirect.
  const bytes = await octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
    owner: 'acme',
    repo: 'assets',
    asset_id: asset.id,
    headers: { accept: 'application/octet-stream' },
  });
  expect(Buffer.from(bytes.data as unknown as ArrayBuffer).equals(assetContent(0, 5000))).toBe(true);
  expect(repo.asset(asset.id).asset.download_count).toBe(1);
  const api = github.requests.filter({
    listener: 'api',
    path: `/repos/acme/assets/releases/assets/${asset.id}`,
  });
  expect(api.map((r) => r.status)).toEqual([200, 302]);
  expect(github.requests.filter({ listener: 'downloads' }).map((r) => [r.status, r.authorization])).toEqual([
    [200, false],
  ]);

  // Plain fetch following the redirect itself: Node's fetch (undici) drops authorization when the
  // redirect leaves the origin, so the second listener gets no token.
  const followed = await fetch(`${github.apiUrl}/repos/acme/assets/releases/assets/${asset.id}`, {
    headers: { authorization: `token ${github.token}`, accept: 'application/octet-stream' },
  });
  expect(followed.status).toBe(200);
  expect(Buffer.from(await followed.arrayBuffer()).equals(assetContent(0, 5000))).toBe(true);
  expect(github.requests.filter({ listener: 'downloads' }).map((r) => [r.status, r.authorization])).toEqual([
    [200, false],
    [200, false],
  ]);

  // A client that sends its token there is seen, and refused as S3 refuses two auth mechanisms.
  const redirect = await fetch(`${github.apiUrl}/repos/acme/assets/releases/assets/${asset.id}`, {
    headers: { authorization: `token ${github.token}`, accept: 'application/octet-stream' },
    redirect: 'manual',
  });
  expect(redirect.status).toBe(302);
  const location = redirect.headers.get('location')!;
  expect(new URL(location).origin).toBe(github.downloadsUrl);
  const leaked = await fetch(location, { headers: { authorization: `token ${github.token}` } });
  expect(leaked.status).toBe(400);
  expect(github.requests.filter({ listener: 'downloads' }).map((r) => [r.status, r.authorization])).toEqual([
    [200, false],
    [200, false],
    [400, true],
  ]);
});

test('bad or missing token: 401 Bad credentials; unknown repository or item: 404 Not Found', async () => {
  github.seed('acme/auth', { issues: 1 });
  const none = await fetch(`${github.apiUrl}/repos/acme/auth`);
  expect(none.status).toBe(401);
  expect(await none.json()).toMatchObject({ message: 'Bad credentials' });
  const wrong = await fetch(`${github.apiUrl}/repos/acme/auth`, { headers: { authorization: 'token nope' } });
  expect(wrong.status).toBe(401);
  const bearer = await fetch(`${github.apiUrl}/repos/acme/auth`, {
    headers: { authorization: `Bearer ${github.token}` },
  });
  expect(bearer.status).toBe(200);
  expect(await bearer.json()).toMatchObject({
    full_name: 'acme/auth',
    default_branch: 'main',
    owner: { login: 'acme' },
  });
  for (const path of ['/repos/acme/nothing', '/repos/acme/auth/issues/99', '/repos/acme/auth/pulls/1']) {
    const missing = await fetch(`${github.apiUrl}${path}`, {
      headers: { authorization: `token ${github.token}` },
    });
    expect([path, missing.status, await missing.json()]).toEqual([
      path,
      404,
      expect.objectContaining({ message: 'Not Found' }),
    ]);
  }
  expect(github.requests.count({ status: 401 })).toBe(2);
  expect(github.requests.filter({ status: 401 }).map((r) => r.authorization)).toEqual([false, true]);
});

test('a seeded repository: every kind the exporter reads, linked as on GitHub', async () => {
  github.seed('acme/kinds', {
    issues: 4,
    pulls: 2,
    commentsPerIssue: 2,
    reviewsPerPull: 2,
    reviewCommentsPerPull: 3,
    labels: 3,
    milestones: 2,
    releases: 1,
    settings: { description: 'Seeded', topics: ['backup', 'test'], default_branch: 'trunk' },
  });
  const at = { owner: 'acme', repo: 'kinds' };
  const repository = await octokit.request('GET /repos/{owner}/{repo}', at);
  expect(repository.data).toMatchObject({
    description: 'Seeded',
    topics: ['backup', 'test'],
    default_branch: 'trunk',
  });
  expect((await octokit.request('GET /repos/{owner}/{repo}/topics', at)).data.names).toEqual([
    'backup',
    'test',
  ]);
  expect((await octokit.paginate('GET /repos/{owner}/{repo}/labels', at)).map((l) => l.name)).toEqual([
    'label-1',
    'label-2',
    'label-3',
  ]);
  expect(
    await octokit.paginate('GET /repos/{owner}/{repo}/milestones', { ...at, state: 'all' }),
  ).toHaveLength(2);

  const pulls = await octokit.paginate('GET /repos/{owner}/{repo}/pulls', { ...at, state: 'all' });
  expect(pulls).toHaveLength(2);
  const pull = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
    ...at,
    pull_number: pulls[0]!.number,
  });
  expect(pull.data).toMatchObject({ comments: 2, review_comments: 3, base: { ref: 'trunk' } });
  expect(pull.data.head.ref).toBe(`feature-${pull.data.number}`);
  const reviews = await octokit.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', {
    ...at,
    pull_number: pull.data.number,
  });
  expect(reviews.map((r) => r.state)).toEqual(['COMMENTED', 'APPROVED']);
  expect(reviews[0]!.pull_request_url).toBe(`${github.apiUrl}/repos/acme/kinds/pulls/${pull.data.number}`);

  const reviewComments = await octokit.paginate('GET /repos/{owner}/{repo}/pulls/comments', at);
  expect(reviewComments).toHaveLength(6);
  expect(reviewComments.every((c) => c.pull_request_review_id !== null)).toBe(true);
  const comments = await octokit.paginate('GET /repos/{owner}/{repo}/issues/comments', at);
  expect(comments).toHaveLength(12);
  const onFirst = await octokit.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...at,
    issue_number: 1,
  });
  expect(onFirst.map((c) => c.body)).toEqual(['Comment 1 on #1.', 'Comment 2 on #1.']);
  expect(onFirst.every((c) => c.issue_url === `${github.apiUrl}/repos/acme/kinds/issues/1`)).toBe(true);
  const release = (await octokit.request('GET /repos/{owner}/{repo}/releases', at)).data[0]!;
  const single = await octokit.request('GET /repos/{owner}/{repo}/releases/{release_id}', {
    ...at,
    release_id: release.id,
  });
  expect(single.data.tag_name).toBe('v1.0.0');
});
