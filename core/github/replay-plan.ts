// What a replay has to create: the export's items less those the target repository already has
// (labels and milestones by name and title, the rest by the marker at the end of their body).
// A pure function of the export and the target's state, so a dry run shows exactly what a real
// run would do.
import type {
  ReplayAsset,
  ReplayComment,
  ReplayExport,
  ReplayIssue,
  ReplayLabel,
  ReplayMilestone,
  ReplayRelease,
} from './replay-export.js';

/** What the target already has, keyed by the source's ids. */
export interface TargetState {
  /** Label names, lower case (GitHub's labels are case-insensitive). */
  labels: Set<string>;
  /** Milestone title -> its number in the target. */
  milestones: Map<string, number>;
  /** Source issue number -> the replayed issue. */
  issues: Map<number, { number: number; state: string }>;
  /** Source comment ids found on the replayed issues. */
  comments: Set<number>;
  /** Source release id -> the replayed release, with its asset names. */
  releases: Map<number, TargetRelease>;
  /** Tags that have a release not made by a replay. */
  otherReleaseTags: Set<string>;
}

export interface TargetRelease {
  id: number;
  upload_url: string;
  assets: Set<string>;
}

export interface PlannedAsset {
  release: ReplayRelease;
  asset: ReplayAsset;
}

export interface ReplayPlan {
  source: string;
  target: string;
  labels: { create: ReplayLabel[]; existing: number };
  milestones: { create: ReplayMilestone[]; existing: number };
  issues: { create: ReplayIssue[]; existing: number };
  /** Replayed issues still open whose original is closed (a run cut short between the two). */
  close: ReplayIssue[];
  comments: { create: ReplayComment[]; existing: number };
  releases: { create: ReplayRelease[]; existing: number };
  /** Releases whose tag already has another release in the target: GitHub allows one per tag. */
  tagTaken: ReplayRelease[];
  assets: { create: PlannedAsset[]; existing: number };
  pulls: number;
  pullComments: number;
  invalid: number;
}

function split<T>(items: T[], exists: (item: T) => boolean): { create: T[]; existing: number } {
  const create = items.filter((item) => !exists(item));
  return { create, existing: items.length - create.length };
}

export function planReplay(exported: ReplayExport, target: string, state: TargetState): ReplayPlan {
  const releases = split(exported.releases, (r) => state.releases.has(r.id));
  const tagTaken = releases.create.filter((r) => state.otherReleaseTags.has(r.tag_name));
  releases.create = releases.create.filter((r) => !state.otherReleaseTags.has(r.tag_name));
  const assets = split(
    exported.releases
      .filter((release) => !tagTaken.includes(release))
      .flatMap((release) => release.assets.map((asset) => ({ release, asset }))),
    ({ release, asset }) => state.releases.get(release.id)?.assets.has(asset.name) ?? false,
  );
  return {
    source: exported.source,
    target,
    labels: split(exported.labels, (l) => state.labels.has(l.name.toLowerCase())),
    milestones: split(exported.milestones, (m) => state.milestones.has(m.title)),
    issues: split(exported.issues, (i) => state.issues.has(i.number)),
    close: exported.issues.filter(
      (i) => i.state === 'closed' && state.issues.get(i.number)?.state === 'open',
    ),
    comments: split(exported.comments, (c) => state.comments.has(c.id)),
    releases,
    tagTaken,
    assets,
    pulls: exported.pulls,
    pullComments: exported.pullComments,
    invalid: exported.invalid,
  };
}

/** Items to create (and issues to close): zero after a complete replay. */
export const plannedWrites = (plan: ReplayPlan): number =>
  plan.labels.create.length +
  plan.milestones.create.length +
  plan.issues.create.length +
  plan.close.length +
  plan.comments.create.length +
  plan.releases.create.length +
  plan.assets.create.length;

// Titles and names are the export's text: JSON quoting keeps a control character in one from
// reaching the terminal.
const quoted = (text: string | null): string => JSON.stringify(text ?? '');

/** The plan as a person reads it: counts per kind, then one line per item to create. */
export function describePlan(plan: ReplayPlan): string[] {
  const count = (name: string, part: { create: unknown[]; existing: number }, extra = ''): string =>
    `  ${name.padEnd(11)}${String(part.create.length).padStart(6)} to create, ${part.existing} already there${extra}`;
  const lines = [
    `Replay of ${plan.source} into ${plan.target}:`,
    count('labels', plan.labels),
    count('milestones', plan.milestones),
    count('issues', plan.issues, plan.close.length > 0 ? `, ${plan.close.length} to close` : ''),
    count('comments', plan.comments),
    count('releases', plan.releases, plan.tagTaken.length > 0 ? `, ${plan.tagTaken.length} tag taken` : ''),
    count('assets', plan.assets),
  ];
  if (plan.pulls > 0)
    lines.push(
      `  ${plan.pulls} pull requests (and ${plan.pullComments} comments on them) not replayed: their branches are not ` +
        'in the export; their text is in `r2-backup restore --metadata`',
    );
  if (plan.invalid > 0)
    lines.push(`  ${plan.invalid} items of the export left out as invalid (see the warnings)`);
  for (const label of plan.labels.create) lines.push(`+ label ${quoted(label.name)} #${label.color}`);
  for (const milestone of plan.milestones.create)
    lines.push(`+ milestone ${quoted(milestone.title)} (${milestone.state})`);
  for (const issue of plan.issues.create)
    lines.push(`+ issue #${issue.number} ${quoted(issue.title)} (${issue.state})`);
  for (const issue of plan.close)
    lines.push(`~ close the replay of issue #${issue.number} ${quoted(issue.title)}`);
  for (const comment of plan.comments.create)
    lines.push(`+ comment ${comment.id} on issue #${comment.issue_number} by ${comment.author}`);
  for (const release of plan.releases.create)
    lines.push(`+ release ${quoted(release.tag_name)} ${quoted(release.name)}`);
  for (const release of plan.tagTaken)
    lines.push(
      `! release ${quoted(release.tag_name)}: the target has another release of that tag; not replayed`,
    );
  for (const { release, asset } of plan.assets.create)
    lines.push(`+ asset ${quoted(asset.name)} of release ${quoted(release.tag_name)} (${asset.size} bytes)`);
  return lines;
}
