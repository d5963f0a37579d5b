// The measure of issue 22: API requests for a repository of 1,000 issues and 300 pull requests,
// first run (everything, with each pull request's reviews) and second run (unchanged: one
// request per list). Slow part: the first run's 300 review listings (a few seconds locally).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { FULL_NAME, HOUR, MINUTE, runExport, startWorld, type World } from './helpers.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
  world.github.seed(FULL_NAME, { issues: 1000, pulls: 300, labels: 10, milestones: 3 });
  world.advance(10 * MINUTE);
});
afterAll(async () => {
  await world.github.stop();
});

test('1,000 issues and 300 pull requests: requests of the first run, and of an unchanged second run', async () => {
  const first = await runExport(world);
  world.advance(HOUR);
  const second = await runExport(world, { previous: first });
  console.log(
    `Metadata export of 1,000 issues and 300 pull requests: first run ${first.manifest.requests} API requests, ` +
      `second run (unchanged) ${second.manifest.requests}`,
  );
  // repository, labels, milestones, releases: 1 each; issues and pulls: 13 pages of 100 (GET
  // /issues lists both); issue comments, review comments: 1 each (empty); pulls: 3 pages; reviews:
  // one per pull request.
  expect(first.manifest.requests).toBe(4 + 13 + 1 + 3 + 300 + 1);
  expect(first.manifest.counts).toMatchObject({ issues: 1000, pulls: 300, labels: 10, milestones: 3 });
  expect(second.manifest.requests).toBe(8);
  expect(second.apiRequests).toBe(8);
  expect(second.manifest.counts).toEqual(first.manifest.counts);
}, 60_000);
