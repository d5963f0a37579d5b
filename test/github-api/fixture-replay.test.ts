// A recorded @octokit/fixtures scenario served locally and paginated with the real plugin.
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { existsSync } from 'node:fs';
import { scenarioPath, startFixtureReplay } from '../helpers/github-api/fixture-replay.js';

const Client = Octokit.plugin(paginateRest);

test('paginate-issues: 5 pages, 13 issues, every recorded request made', async () => {
  expect(existsSync(scenarioPath('paginate-issues'))).toBe(true);
  const replay = await startFixtureReplay('paginate-issues');
  try {
    const octokit = new Client({ auth: 'token-is-not-checked', baseUrl: replay.apiUrl });
    const issues = await octokit.paginate('GET /repos/{owner}/{repo}/issues', {
      owner: 'octokit-fixture-org',
      repo: 'paginate-issues',
      per_page: 3,
    });
    expect(issues).toHaveLength(13);
    expect(issues.map((i) => i.number)).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(issues[0]!.url.startsWith(`${replay.apiUrl}/repos/`)).toBe(true);
    expect(replay.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(replay.pending()).toEqual([]);
  } finally {
    await replay.stop();
  }
});

test('an unexpected request gets 500 naming it; what was not asked stays pending', async () => {
  const replay = await startFixtureReplay('release-assets');
  try {
    const answer = await fetch(`${replay.apiUrl}/repos/octokit-fixture-org/release-assets/releases/tags/v9`);
    expect(answer.status).toBe(500);
    expect(((await answer.json()) as { message: string }).message).toContain(
      'GET /repos/octokit-fixture-org/release-assets/releases/tags/v9',
    );
    const release = await fetch(
      `${replay.apiUrl}/repos/octokit-fixture-org/release-assets/releases/tags/v1.0.0`,
    );
    const body = (await release.json()) as { upload_url: string };
    expect(body.upload_url.startsWith(`${replay.uploadsUrl}/repos/`)).toBe(true);
    expect(replay.pending()).toHaveLength(5);
    expect(replay.pending()[0]).toContain(
      'POST /repos/octokit-fixture-org/release-assets/releases/1000/assets',
    );
  } finally {
    await replay.stop();
  }
});
