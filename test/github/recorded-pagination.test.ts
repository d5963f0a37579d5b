// The exporter's page-at-a-time listing against GitHub's own recorded answers (@octokit/fixtures'
// paginate-issues scenario: 13 issues, 3 a page, Link headers as GitHub sent them), through the
// rate-limit hook, which reads the recorded x-ratelimit-* headers and counts the requests.
import { expect, test } from '@jest/globals';
import { createGitHubClient } from '../../core/github/client.js';
import { applyLimits } from '../../core/github/limits.js';
import { pages } from '../../core/github/pages.js';
import { startFixtureReplay } from '../helpers/github-api/fixture-replay.js';

test('paginate-issues: every recorded page, in order, one request each', async () => {
  const replay = await startFixtureReplay('paginate-issues');
  try {
    const api = createGitHubClient({ token: 'not-checked-by-the-replay', baseUrl: replay.apiUrl });
    const logs: string[] = [];
    const limits = applyLimits(api, { log: (m) => logs.push(m), maxWaitSeconds: 60 });
    const sizes: number[] = [];
    const numbers: number[] = [];
    for await (const page of pages(api, '/repos/{owner}/{repo}/issues', {
      owner: 'octokit-fixture-org',
      repo: 'paginate-issues',
      per_page: 3,
    })) {
      sizes.push(page.length);
      numbers.push(...page.map((issue) => issue.number as number));
    }
    limits.remove();
    expect(sizes).toEqual([3, 3, 3, 3, 1]);
    expect(numbers).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(limits.requests()).toBe(5);
    expect(replay.requests.every((r) => r.status === 200 && r.authorization)).toBe(true);
    expect(replay.pending()).toEqual([]);
    expect(logs).toEqual([]);
  } finally {
    await replay.stop();
  }
});
