// GitHub's rate limits in the exporter: the hook alone (with an injected sleep where the real wait
// would be long, and a local server for 5xx and network errors), then whole exports that wait
// for a short limit, stop partial at a long one, and go on from there in the next run.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGitHubClient } from '../../core/github/client.js';
import { ADDED_FIELDS } from '../../core/github/export-format.js';
import { applyLimits, RateLimitExhausted } from '../../core/github/limits.js';
import {
  FULL_NAME,
  HOUR,
  MINUTE,
  contentOf,
  readExport,
  runExport,
  startWorld,
  type World,
} from './helpers.js';

let world: World;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.github.stop();
});

const WAIT_LOG =
  /^GitHub API rate limit reached \((\d+) requests used\); waiting (\d+)s until \d\d:\d\d:\d\d UTC$/;

describe('applyLimits', () => {
  test('a spent primary limit is waited for before the next request, when its reset is near enough', async () => {
    world.github.seed(FULL_NAME, { labels: 1 });
    world.github.limits.setPrimary({ limit: 60, remaining: 1, resetInSeconds: 7200 });
    const logs: string[] = [];
    const waits: number[] = [];
    const limits = applyLimits(world.api, {
      log: (m) => logs.push(m),
      maxWaitSeconds: 3 * 3600,
      // The two hours pass at once: the fake's window is renewed as it would be by then.
      sleep: async (ms) => {
        waits.push(ms);
        world.github.limits.setPrimary({ limit: 60, remaining: 60, resetInSeconds: 3600 });
      },
    });
    await world.api.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'project' });
    await world.api.request('GET /repos/{owner}/{repo}/labels', { owner: 'octo-org', repo: 'project' });
    limits.remove();
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(7195_000);
    expect(waits[0]).toBeLessThanOrEqual(7202_000);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(WAIT_LOG);
    expect(WAIT_LOG.exec(logs[0]!)![1]).toBe('60');
    // The second request was sent only after the wait: the fake refused nothing.
    expect(world.github.requests.count({ status: 403 })).toBe(0);
    expect(limits.requests()).toBe(2);
  });

  test('a primary limit that resets beyond the allowed wait throws RateLimitExhausted with the reset', async () => {
    world.github.seed(FULL_NAME);
    world.github.limits.setPrimary({ limit: 60, remaining: 0, resetInSeconds: 7200, status: 429 });
    const limits = applyLimits(world.api, { log: () => {}, maxWaitSeconds: 60 });
    const error = await world.api
      .request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'project' })
      .catch((e: unknown) => e);
    limits.remove();
    expect(error).toBeInstanceOf(RateLimitExhausted);
    const exhausted = error as RateLimitExhausted;
    expect(exhausted.limit).toBe('primary');
    expect(exhausted.resetAt.getTime()).toBe(world.github.limits.primary.reset * 1000);
    expect(exhausted.message).toMatch(
      /rate limit reached \(60 requests used\); it resets at .* UTC, in \d+s, longer than the 60s/,
    );
    expect(limits.requests()).toBe(1);
  });

  test('a secondary limit longer than the allowed wait stops at once; a removed hook counts nothing', async () => {
    world.github.seed(FULL_NAME);
    world.github.limits.secondaryOnce(1, 600);
    const sleeps: number[] = [];
    const limits = applyLimits(world.api, {
      log: () => {},
      maxWaitSeconds: 60,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const error = await world.api
      .request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'project' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitExhausted);
    expect((error as RateLimitExhausted).limit).toBe('secondary');
    expect(sleeps).toEqual([]);
    limits.remove();
    await world.api.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'project' });
    expect(limits.requests()).toBe(1);
  });
});

describe('applyLimits on server errors', () => {
  let server: Server;
  let url: string;
  const answers: number[] = [];
  let seen = 0;
  beforeEach(async () => {
    seen = 0;
    answers.length = 0;
    server = createServer((request, response) => {
      const status = answers[seen++] ?? 200;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status === 200 ? { ok: true } : { message: `status ${status}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const client = () => createGitHubClient({ token: 'ghs_secret_token_value', baseUrl: url });

  test('5xx answers to a read are retried with backoff, and logged without the token', async () => {
    answers.push(502, 503);
    const api = client();
    const logs: string[] = [];
    const sleeps: number[] = [];
    const limits = applyLimits(api, {
      log: (m) => logs.push(m),
      maxWaitSeconds: 60,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const { data } = await api.request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' });
    expect(data).toEqual({ ok: true });
    expect(seen).toBe(3);
    expect(limits.requests()).toBe(3);
    expect(sleeps).toHaveLength(2);
    expect(logs[0]).toMatch(/GET \/repos\/\{owner\}\/\{repo\} failed .*retrying in .* attempt 2 of 4/);
    expect(logs.join('\n')).not.toContain('ghs_secret_token_value');
  });

  test('a write is not sent twice on a 5xx, and a 403 that is no rate limit is not retried', async () => {
    answers.push(502, 403);
    const api = client();
    const limits = applyLimits(api, { log: () => {}, maxWaitSeconds: 60, sleep: async () => {} });
    await expect(
      api.request('POST /repos/{owner}/{repo}/labels', { owner: 'o', repo: 'r', name: 'x' }),
    ).rejects.toMatchObject({
      status: 502,
    });
    await expect(api.request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' })).rejects.toMatchObject({
      status: 403,
    });
    expect(seen).toBe(2);
    expect(limits.requests()).toBe(2);
  });

  test('a network error is retried, then thrown after the last attempt', async () => {
    const closed = `${url}`;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = createGitHubClient({ token: 't', baseUrl: closed });
    const limits = applyLimits(api, { log: () => {}, maxWaitSeconds: 60, sleep: async () => {} });
    await expect(api.request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' })).rejects.toMatchObject({
      status: 500,
    });
    expect(limits.requests()).toBe(4);
  });
});

describe('exportRepository under rate limits', () => {
  const SEED = {
    issues: 230,
    pulls: 20,
    commentsPerIssue: 1,
    reviewsPerPull: 1,
    labels: 2,
    releases: 1,
    assetsPerRelease: 1,
  };

  test('a primary limit too long to wait for: a partial export, then a run that completes it', async () => {
    world.github.seed(FULL_NAME, SEED);
    world.advance(10 * MINUTE);
    const issuesAscending = [...world.github.repo(FULL_NAME).items.values()].sort((a, b) =>
      a.updated_at < b.updated_at ? -1 : a.updated_at > b.updated_at ? 1 : a.id - b.id,
    );
    // repository, labels, milestones, releases, then the first page of issues: none left after.
    world.github.limits.setPrimary({ limit: 5, remaining: 5, resetInSeconds: 3600 });
    const partial = await runExport(world, { maxWaitSeconds: 60 });

    expect(partial.manifest.partial).toBe(true);
    expect(partial.manifest.partial_reason).toMatch(
      /^primary rate limit, resets at .*Z: GitHub API rate limit reached \(5 requests used\)/,
    );
    expect(partial.manifest.requests).toBe(5);
    expect(partial.apiRequests).toBe(5); // the sixth was not sent
    const pageOne = issuesAscending.slice(0, 100);
    expect(partial.manifest.cursors.issues).toBe(pageOne[99]!.updated_at);
    expect(partial.manifest.cursors.issue_comments).toBeUndefined();
    expect(partial.manifest.cursors.pulls).toBeUndefined();
    expect(partial.manifest.cursors.pending_reviews).toEqual(
      pageOne.filter((i) => i.pull).map((i) => i.number),
    );
    const cut = await readExport(partial.dir);
    expect(cut.kinds.issues.map((i) => i.number)).toEqual(
      pageOne
        .filter((i) => !i.pull)
        .map((i) => i.number)
        .sort((a, b) => a - b),
    );
    expect(cut.kinds.pulls).toEqual([]);
    expect(cut.assets.size).toBe(0);
    expect(partial.logs.some((l) => l.startsWith('issues: stopped (GitHub API rate limit reached'))).toBe(
      true,
    );

    world.github.limits.setPrimary({ limit: 5000, remaining: 5000, resetInSeconds: 3600 });
    world.advance(HOUR);
    const next = await runExport(world, { previous: partial });
    expect(next.manifest.partial).toBe(false);
    expect(next.manifest.cursors.pending_reviews).toBeUndefined();
    const full = await runExport(world);
    expect(contentOf(await readExport(next.dir))).toEqual(contentOf(await readExport(full.dir)));
    expect(next.manifest.counts).toEqual(full.manifest.counts);
  });

  test('a primary limit that resets within the wait: the run waits and completes', async () => {
    world.github.seed(FULL_NAME, { issues: 3, labels: 1 });
    world.advance(10 * MINUTE);
    // Five of the run's eight requests, a wait, then a new window (of five) for the rest.
    world.github.limits.setPrimary({ limit: 5, remaining: 5, resetInSeconds: 2 });
    const started = Date.now();
    const run = await runExport(world, { maxWaitSeconds: 30 });
    expect(run.manifest.partial).toBe(false);
    expect(run.manifest.counts.issues).toBe(3);
    expect(run.logs.filter((l) => WAIT_LOG.test(l))).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    // Eight attempts for the eight answers the run needs: the wait came before the sixth, none
    // was refused. (The fake's own log is not asked: a client another suite left behind on a
    // reused port would be counted there.)
    expect(run.manifest.requests).toBe(8);
  });

  test('a secondary limit with retry-after: the run waits it out and completes', async () => {
    world.github.seed(FULL_NAME, { issues: 3, pulls: 1, labels: 1 });
    world.advance(10 * MINUTE);
    world.github.limits.secondaryOnce(2, 1);
    const started = Date.now();
    const run = await runExport(world, { maxWaitSeconds: 30 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(run.manifest.partial).toBe(false);
    expect(run.manifest.counts).toMatchObject({ issues: 3, pulls: 1, labels: 1 });
    const waits = run.logs.filter((l) =>
      l.startsWith('GitHub API secondary rate limit on GET /repos/{owner}/{repo}; waiting 1s'),
    );
    expect(waits).toHaveLength(2);
    expect(world.github.requests.count({ status: 403 })).toBe(2);
    expect(run.manifest.requests).toBe(run.apiRequests);
  });

  test('a limit hit while downloading assets: the export is partial without them, the next run fetches them', async () => {
    world.github.seed(FULL_NAME, { issues: 2, releases: 1, assetsPerRelease: 2 });
    world.advance(10 * MINUTE);
    // 8 listings, then one asset.
    world.github.limits.setPrimary({ limit: 9, remaining: 9, resetInSeconds: 3600 });
    const partial = await runExport(world, { maxWaitSeconds: 5 });
    expect(partial.manifest).toMatchObject({ partial: true, counts: { assets: 1, releases: 1, issues: 2 } });
    // Every listing was read to the end: the cursors are the complete run's.
    expect(partial.manifest.cursors.issues).toBeDefined();
    world.github.limits.setPrimary({ limit: 5000, remaining: 5000, resetInSeconds: 3600 });
    world.advance(HOUR);
    const next = await runExport(world, { previous: partial });
    expect(next.manifest).toMatchObject({ partial: false, counts: { assets: 2 } });
    expect(world.github.requests.count({ listener: 'downloads' })).toBe(2);
    const release = world.github.repo(FULL_NAME).releases[0]!;
    const content = await readExport(next.dir);
    for (const asset of release.assets)
      expect(content.assets.get(`assets/${release.id}/${asset.id}`)!.equals(asset.bytes)).toBe(true);
    expect(content.kinds.releases[0]![ADDED_FIELDS.missingSince]).toBeUndefined();
  });
});
