// Builds a repository's state in one call, with deterministic content: the same options give the
// same titles, bodies, labels, numbers and bytes. Seeded items are dated one second apart in the
// past (the last one `now() - 1s`), so that `since=` can cut between them and anything a test
// changes afterwards is newer than all of them.
import { isoSeconds, type GitHubModel, type RepositoryModel, type SettingsInput } from './model.js';

export interface SeedOptions {
  issues?: number;
  pulls?: number;
  /** Issue comments on every issue and every pull request. */
  commentsPerIssue?: number;
  reviewsPerPull?: number;
  reviewCommentsPerPull?: number;
  labels?: number;
  milestones?: number;
  releases?: number;
  assetsPerRelease?: number;
  /** Size of each asset (default 1024). */
  assetBytes?: number;
  /** Every `closedEvery`-th issue or pull request is closed (default 4; 0 for none). */
  closedEvery?: number;
  settings?: SettingsInput;
}

/** The bytes of seeded asset `index` (as `assetContent` makes them, to compare in tests). */
export function assetContent(index: number, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (index * 131 + i * 7 + (i >> 8)) & 0xff;
  return bytes;
}

export function seedRepository(
  model: GitHubModel,
  fullName: string,
  options: SeedOptions = {},
): RepositoryModel {
  const existing = model.find(fullName);
  if (existing && options.settings) existing.updateSettings(options.settings);
  const repo = existing ?? model.addRepository(fullName, options.settings);
  const issues = options.issues ?? 0;
  const pulls = options.pulls ?? 0;
  const items = issues + pulls;
  const commentsPer = options.commentsPerIssue ?? 0;
  const reviewsPer = options.reviewsPerPull ?? 0;
  const reviewCommentsPer = options.reviewCommentsPerPull ?? 0;
  const releases = options.releases ?? 0;
  const assetsPer = options.assetsPerRelease ?? 0;
  const closedEvery = options.closedEvery ?? 4;

  // One second per dated thing, ending a second before now.
  const dated = options.milestones ?? 0;
  const total =
    dated + items * (1 + commentsPer) + pulls * (reviewsPer + reviewCommentsPer) + releases * (1 + assetsPer);
  let tick = model.now() - (total + 1) * 1000;
  const next = (): string => isoSeconds((tick += 1000));

  const labelNames: string[] = [];
  for (let l = 1; l <= (options.labels ?? 0); l++) {
    const name = `label-${l}`;
    repo.addLabel({
      name,
      color: ((l * 0x3a5f1d) & 0xffffff).toString(16).padStart(6, '0'),
      description: `Label ${l}`,
    });
    labelNames.push(name);
  }
  const milestoneNumbers: number[] = [];
  for (let m = 1; m <= (options.milestones ?? 0); m++) {
    milestoneNumbers.push(
      repo.addMilestone({ title: `Milestone ${m}`, description: `Milestone ${m}`, at: next() }).number,
    );
  }

  // Pull requests spread evenly among the issues, as they come on a real repository.
  let pullsMade = 0;
  for (let k = 0; k < items; k++) {
    const isPull = Math.floor(((k + 1) * pulls) / items) > Math.floor((k * pulls) / items);
    const at = next();
    const closed = closedEvery > 0 && (k + 1) % closedEvery === 0;
    const input = {
      title: isPull ? `Pull request ${pullsMade + 1}` : `Issue ${k + 1 - pullsMade}`,
      body: `Body of item ${k + 1}.\n\nDeterministic text for tests.`,
      user: k % 3 === 0 ? 'octocat' : 'hubot',
      labels: labelNames.length > 0 ? [labelNames[k % labelNames.length]!] : [],
      milestone:
        milestoneNumbers.length > 0 && k % 2 === 0 ? milestoneNumbers[k % milestoneNumbers.length]! : null,
      state: closed ? ('closed' as const) : ('open' as const),
      created_at: at,
      updated_at: at,
    };
    const item = isPull ? repo.addPull({ ...input, merged_at: closed ? at : null }) : repo.addIssue(input);
    if (isPull) {
      pullsMade++;
      item.state_reason = null;
    }
    for (let c = 1; c <= commentsPer; c++) {
      repo.addIssueComment(item.number, {
        body: `Comment ${c} on #${item.number}.`,
        user: 'hubot',
        at: next(),
      });
    }
    if (!isPull) continue;
    let reviewId: number | null = null;
    for (let r = 1; r <= reviewsPer; r++) {
      const state = r % 2 === 1 ? 'COMMENTED' : 'APPROVED';
      const review = repo.addReview(item.number, {
        body: `Review ${r} of #${item.number}.`,
        state,
        user: 'hubot',
        at: next(),
      });
      reviewId ??= review.id;
    }
    for (let c = 1; c <= reviewCommentsPer; c++) {
      repo.addReviewComment(item.number, {
        body: `Review comment ${c} on #${item.number}.`,
        path: `src/file-${c}.ts`,
        line: c,
        review_id: reviewId,
        user: 'hubot',
        at: next(),
      });
    }
  }

  let assetIndex = 0;
  for (let r = 1; r <= releases; r++) {
    const release = repo.addRelease({
      tag_name: `v${r}.0.0`,
      name: `Version ${r}.0.0`,
      body: `Notes of ${r}.0.0.`,
      at: next(),
    });
    for (let a = 1; a <= assetsPer; a++) {
      repo.addAsset(release.id, {
        name: `asset-${a}.bin`,
        bytes: assetContent(assetIndex++, options.assetBytes ?? 1024),
        at: next(),
      });
    }
  }
  return repo;
}
