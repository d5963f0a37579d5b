// The metadata exporter against the fake GitHub: a full export, an unchanged second run, changes
// between runs, and the asset redirect.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { ADDED_FIELDS, assetPath } from '../../core/github/export-format.js';
import type { SeedOptions } from '../helpers/github-api/seed.js';
import {
  FULL_NAME,
  HOUR,
  MINUTE,
  contentOf,
  keys,
  readExport,
  runExport,
  startWorld,
  type World,
} from './helpers.js';

const SEED: SeedOptions = {
  issues: 6,
  pulls: 4,
  commentsPerIssue: 2,
  reviewsPerPull: 2,
  reviewCommentsPerPull: 1,
  labels: 3,
  milestones: 2,
  releases: 2,
  assetsPerRelease: 2,
  assetBytes: 3000,
  settings: { description: 'A project', topics: ['backup', 'r2'] },
};

let world: World;
beforeEach(async () => {
  world = await startWorld();
  world.github.seed(FULL_NAME, SEED);
  world.advance(10 * MINUTE);
});
afterEach(async () => {
  await world.github.stop();
});

describe('exportRepository', () => {
  test('a full export holds every kind, with the counts and the assets GitHub has', async () => {
    const repo = world.github.repo(FULL_NAME);
    const first = await runExport(world);
    const content = await readExport(first.dir);
    const items = [...repo.items.values()];

    expect(content.repository).toMatchObject({
      full_name: FULL_NAME,
      description: 'A project',
      topics: ['backup', 'r2'],
    });
    expect(keys(content.kinds.labels)).toEqual(repo.labels.map((l) => l.id).sort((a, b) => a - b));
    expect(keys(content.kinds.milestones)).toEqual(repo.milestones.map((m) => m.id).sort((a, b) => a - b));
    expect(keys(content.kinds.issues, 'number')).toEqual(items.filter((i) => !i.pull).map((i) => i.number));
    expect(content.kinds.issues.every((i) => i.pull_request === undefined)).toBe(true);
    expect(keys(content.kinds.pulls, 'number')).toEqual(items.filter((i) => i.pull).map((i) => i.number));
    expect(content.kinds.pulls[0]).toHaveProperty('head.ref');
    expect(keys(content.kinds.issue_comments)).toEqual(repo.issueComments.map((c) => c.id));
    for (const comment of content.kinds.issue_comments)
      expect(comment[ADDED_FIELDS.issueNumber]).toBe(repo.issueComment(comment.id as number).issue_number);
    expect(keys(content.kinds.reviews)).toEqual(repo.reviews.map((r) => r.id));
    for (const review of content.kinds.reviews)
      expect(review[ADDED_FIELDS.pullNumber]).toBe(repo.reviews.find((r) => r.id === review.id)!.pull_number);
    expect(keys(content.kinds.review_comments)).toEqual(repo.reviewComments.map((c) => c.id));
    for (const comment of content.kinds.review_comments)
      expect(comment[ADDED_FIELDS.pullNumber]).toBe(repo.reviewComment(comment.id as number).pull_number);
    expect(keys(content.kinds.releases)).toEqual(repo.releases.map((r) => r.id));

    const assets = repo.releases.flatMap((r) =>
      r.assets.map((a) => ({ path: assetPath(r.id, a.id), bytes: a.bytes })),
    );
    expect([...content.assets.keys()].sort()).toEqual(assets.map((a) => a.path).sort());
    for (const asset of assets) expect(content.assets.get(asset.path)!.equals(asset.bytes)).toBe(true);

    expect(first.manifest).toMatchObject({
      repository: FULL_NAME,
      partial: false,
      counts: {
        labels: 3,
        milestones: 2,
        issues: 6,
        pulls: 4,
        issue_comments: 20,
        reviews: 8,
        review_comments: 4,
        releases: 2,
        assets: 4,
      },
    });
    expect(first.manifest.carried_from).toBeUndefined();
    expect(first.manifest.requests).toBe(first.apiRequests);
    expect(first.logs).toContain(`issues: 6 in all (1 request)`);
  });

  test('asset bytes come through the redirect, and the token never reaches the storage origin', async () => {
    await runExport(world);
    const downloads = world.github.requests.filter({ listener: 'downloads' });
    expect(downloads).toHaveLength(4);
    expect(downloads.every((r) => r.status === 200 && !r.authorization)).toBe(true);
    const redirects = world.github.requests.filter({ listener: 'api', path: /\/releases\/assets\/\d+$/ });
    expect(redirects).toHaveLength(4);
    expect(redirects.every((r) => r.status === 302 && r.authorization)).toBe(true);
  });

  test('a second run on an unchanged repository makes few requests and exports the same content', async () => {
    const first = await runExport(world);
    // Read now: the second run moves the unchanged assets out of the previous export.
    const firstContent = await readExport(first.dir);
    world.advance(HOUR);
    const second = await runExport(world, { previous: first });
    console.log(
      `Unchanged repository: ${first.manifest.requests} requests, then ${second.manifest.requests}`,
    );
    // repository, labels, milestones, releases, issues, issue comments, pulls, review comments.
    expect(second.manifest.requests).toBe(8);
    expect(second.apiRequests).toBe(8);
    expect(world.github.requests.count({ path: /\/reviews/ })).toBe(4); // the first run's only
    expect(second.manifest.carried_from).toBe(`${first.dir}.meta.tar.zst`);
    expect(contentOf(await readExport(second.dir))).toEqual(contentOf(firstContent));
    expect(second.manifest.counts).toEqual(first.manifest.counts);
    expect(world.github.requests.count({ listener: 'downloads' })).toBe(4); // assets carried
  });

  test('changes between runs: only they are fetched, and the merge holds old and new', async () => {
    const repo = world.github.repo(FULL_NAME);
    const first = await runExport(world);
    world.advance(HOUR);
    const issue = [...repo.items.values()].find((i) => !i.pull)!;
    const pull = [...repo.items.values()].filter((i) => i.pull)[1]!;
    repo.updateIssue(issue.number, { title: 'Edited title' });
    const comment = repo.addIssueComment(issue.number, { body: 'A new comment' });
    const review = repo.addReview(pull.number, { body: 'A new review', state: 'APPROVED' });
    const deleted = repo.labels[0]!;
    repo.deleteLabel(deleted.name);
    const release = repo.addRelease({ tag_name: 'v9.0.0', name: 'Version 9' });
    const asset = repo.addAsset(release.id, { name: 'new.bin', bytes: Buffer.from('new asset bytes') });
    world.advance(10 * MINUTE);
    world.github.requests.reset();

    const before = await readExport(first.dir);
    const second = await runExport(world, { previous: first });
    const content = await readExport(second.dir);

    // Only the changed pull request's reviews, only the new asset.
    expect(world.github.requests.filter({ path: /\/reviews/ }).map((r) => r.path.split('?')[0])).toEqual([
      `/repos/${FULL_NAME}/pulls/${pull.number}/reviews`,
    ]);
    expect(world.github.requests.filter({ listener: 'downloads' }).map((r) => r.path.split('?')[0])).toEqual([
      `/release-assets/${release.id}/${asset.id}`,
    ]);
    expect(second.logs).toContain(`issues: 1 changed since ${first.manifest.cursors.issues} (1 request)`);

    const editedIssue = content.kinds.issues.find((i) => i.number === issue.number)!;
    expect(editedIssue.title).toBe('Edited title');
    expect(content.kinds.issues).toHaveLength(6);
    expect(content.kinds.issue_comments.find((c) => c.id === comment.id)).toMatchObject({
      body: 'A new comment',
      [ADDED_FIELDS.issueNumber]: issue.number,
    });
    expect(content.kinds.issue_comments).toHaveLength(21);
    expect(content.kinds.reviews.find((r) => r.id === review.id)).toMatchObject({
      body: 'A new review',
      [ADDED_FIELDS.pullNumber]: pull.number,
    });
    expect(content.kinds.reviews).toHaveLength(9);
    const kept = content.kinds.labels.find((l) => l.id === deleted.id)!;
    expect(kept.name).toBe(deleted.name);
    expect(kept[ADDED_FIELDS.missingSince]).toBe(second.manifest.exported_at);
    expect(content.kinds.labels.filter((l) => l[ADDED_FIELDS.missingSince] === undefined)).toHaveLength(2);
    expect(keys(content.kinds.releases)).toEqual([...keys(before.kinds.releases), release.id]);
    expect(content.assets.get(assetPath(release.id, asset.id))!.toString()).toBe('new asset bytes');
    expect(content.assets.size).toBe(5);
    // What did not change is carried as it was.
    const unchanged = (items: Record<string, unknown>[], except: number) =>
      items.filter((i) => i.id !== except);
    expect(unchanged(content.kinds.review_comments, -1)).toEqual(before.kinds.review_comments);
    expect(unchanged(content.kinds.issue_comments, comment.id)).toEqual(before.kinds.issue_comments);
    expect(second.manifest.counts).toMatchObject({
      labels: 3,
      issues: 6,
      issue_comments: 21,
      reviews: 9,
      releases: 3,
      assets: 5,
    });

    // A third run keeps the label's first missing time.
    world.advance(HOUR);
    const third = await runExport(world, { previous: second });
    const again = await readExport(third.dir);
    expect(again.kinds.labels.find((l) => l.id === deleted.id)![ADDED_FIELDS.missingSince]).toBe(
      second.manifest.exported_at,
    );
  });
});
