// The in-memory state of the fake GitHub: repositories with their labels, milestones, issues and
// pull requests (one number sequence), comments, reviews, review comments and releases with
// assets. No HTTP here: routes.ts reads and changes it, views.ts shapes it as GitHub's JSON, and
// tests call the mutators directly to simulate what people did between two runs.

/** GitHub writes times as ISO 8601 without milliseconds. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class ModelError extends Error {
  readonly status: 404 | 422;
  readonly errors?: { resource: string; code: string; field?: string }[];

  constructor(
    status: 404 | 422,
    message: string,
    errors?: { resource: string; code: string; field?: string }[],
  ) {
    super(message);
    this.status = status;
    if (errors) this.errors = errors;
  }
}

const notFound = (what: string): ModelError => new ModelError(404, `Not Found: ${what}`);
const alreadyExists = (resource: string, field: string): ModelError =>
  new ModelError(422, 'Validation Failed', [{ resource, code: 'already_exists', field }]);
export const missingField = (resource: string, field: string): ModelError =>
  new ModelError(422, 'Validation Failed', [{ resource, code: 'missing_field', field }]);
const invalidField = (resource: string, field: string): ModelError =>
  new ModelError(422, 'Validation Failed', [{ resource, code: 'invalid', field }]);

export interface RepoSettings {
  id: number;
  name: string;
  full_name: string;
  owner: string;
  private: boolean;
  description: string | null;
  homepage: string | null;
  topics: string[];
  default_branch: string;
  has_issues: boolean;
  has_projects: boolean;
  has_wiki: boolean;
  has_discussions: boolean;
  archived: boolean;
  is_template: boolean;
  allow_squash_merge: boolean;
  allow_merge_commit: boolean;
  allow_rebase_merge: boolean;
  delete_branch_on_merge: boolean;
  created_at: string;
  updated_at: string;
  pushed_at: string;
}
/** What a test may set when adding a repository or changing its settings. */
export type SettingsInput = Partial<Omit<RepoSettings, 'id' | 'name' | 'full_name' | 'owner'>>;

export interface Label {
  id: number;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

export interface Milestone {
  id: number;
  number: number;
  title: string;
  description: string | null;
  state: 'open' | 'closed';
  due_on: string | null;
  creator: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface PullFields {
  head_ref: string;
  base_ref: string;
  head_sha: string;
  base_sha: string;
  draft: boolean;
  merged_at: string | null;
}

/** An issue or a pull request (`pull` set): GitHub numbers both in one sequence. */
export interface Issue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  user: string;
  state: 'open' | 'closed';
  state_reason: 'completed' | 'not_planned' | 'reopened' | null;
  /** Label ids: a renamed label stays on its issues, a deleted one leaves them. */
  labels: number[];
  /** Milestone number. */
  milestone: number | null;
  locked: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  pull?: PullFields;
}

export interface IssueComment {
  id: number;
  issue_number: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export interface Review {
  id: number;
  pull_number: number;
  body: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';
  user: string;
  commit_id: string;
  submitted_at: string;
}

export interface ReviewComment {
  id: number;
  pull_number: number;
  review_id: number | null;
  body: string;
  path: string;
  line: number;
  diff_hunk: string;
  commit_id: string;
  user: string;
  in_reply_to_id: number | null;
  created_at: string;
  updated_at: string;
}

export interface Asset {
  id: number;
  name: string;
  label: string | null;
  content_type: string;
  bytes: Buffer;
  uploader: string;
  download_count: number;
  created_at: string;
  updated_at: string;
}

export interface Release {
  id: number;
  tag_name: string;
  target_commitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  author: string;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  assets: Asset[];
}

export type IssueInput = Partial<
  Pick<Issue, 'title' | 'body' | 'user' | 'state' | 'state_reason' | 'milestone' | 'locked'>
> & {
  /** Label names; unknown names are created, as GitHub does for a writer. */
  labels?: string[];
  /** Times for seeding; default the model's clock. */
  created_at?: string;
  updated_at?: string;
};
export type PullInput = IssueInput & Partial<PullFields>;

const SHA = (n: number): string => n.toString(16).padStart(40, '0');

/** One repository's state. Every change sets `updated_at` from the model's clock. */
export class RepositoryModel {
  readonly labels: Label[] = [];
  readonly milestones: Milestone[] = [];
  /** Issues and pull requests by number. */
  readonly items = new Map<number, Issue>();
  readonly issueComments: IssueComment[] = [];
  readonly reviews: Review[] = [];
  readonly reviewComments: ReviewComment[] = [];
  readonly releases: Release[] = [];
  private lastNumber = 0;

  private readonly owner: GitHubModel;
  readonly settings: RepoSettings;

  constructor(owner: GitHubModel, settings: RepoSettings) {
    this.owner = owner;
    this.settings = settings;
  }

  private stamp(at?: string): string {
    return at ?? this.owner.stamp();
  }

  // ---- settings

  updateSettings(change: SettingsInput): RepoSettings {
    Object.assign(this.settings, change, { updated_at: this.stamp() });
    return this.settings;
  }

  // ---- labels

  label(name: string): Label {
    const found = this.labels.find((l) => l.name.toLowerCase() === name.toLowerCase());
    if (!found) throw notFound(`label ${name}`);
    return found;
  }

  addLabel(input: { name: string; color?: string; description?: string | null }): Label {
    if (!input.name) throw missingField('Label', 'name');
    if (this.labels.some((l) => l.name.toLowerCase() === input.name.toLowerCase())) {
      throw alreadyExists('Label', 'name');
    }
    const label: Label = {
      id: this.owner.nextId(),
      name: input.name,
      color: (input.color ?? 'ededed').replace(/^#/, ''),
      description: input.description ?? null,
      default: false,
    };
    this.labels.push(label);
    return label;
  }

  updateLabel(
    name: string,
    change: { new_name?: string; color?: string; description?: string | null },
  ): Label {
    const label = this.label(name);
    if (change.new_name !== undefined && change.new_name.toLowerCase() !== label.name.toLowerCase()) {
      if (this.labels.some((l) => l.name.toLowerCase() === change.new_name!.toLowerCase())) {
        throw alreadyExists('Label', 'name');
      }
    }
    if (change.new_name !== undefined) label.name = change.new_name;
    if (change.color !== undefined) label.color = change.color.replace(/^#/, '');
    if (change.description !== undefined) label.description = change.description;
    return label;
  }

  /** Deleting a label takes it off its issues (their `updated_at` is left, as on GitHub). */
  deleteLabel(name: string): void {
    const label = this.label(name);
    this.labels.splice(this.labels.indexOf(label), 1);
    for (const item of this.items.values()) item.labels = item.labels.filter((id) => id !== label.id);
  }

  /** Label ids for names, creating the labels that do not exist yet. */
  private labelIds(names: string[]): number[] {
    return names.map((name) => {
      const existing = this.labels.find((l) => l.name.toLowerCase() === name.toLowerCase());
      return (existing ?? this.addLabel({ name })).id;
    });
  }

  // ---- milestones

  milestone(number: number): Milestone {
    const found = this.milestones.find((m) => m.number === number);
    if (!found) throw notFound(`milestone ${number}`);
    return found;
  }

  addMilestone(input: {
    title: string;
    description?: string | null;
    state?: 'open' | 'closed';
    due_on?: string | null;
    at?: string;
  }): Milestone {
    if (!input.title) throw missingField('Milestone', 'title');
    if (this.milestones.some((m) => m.title === input.title)) throw alreadyExists('Milestone', 'title');
    const at = this.stamp(input.at);
    const state = input.state ?? 'open';
    const milestone: Milestone = {
      id: this.owner.nextId(),
      number: this.milestones.reduce((max, m) => Math.max(max, m.number), 0) + 1,
      title: input.title,
      description: input.description ?? null,
      state,
      due_on: input.due_on ?? null,
      creator: this.settings.owner,
      created_at: at,
      updated_at: at,
      closed_at: state === 'closed' ? at : null,
    };
    this.milestones.push(milestone);
    return milestone;
  }

  updateMilestone(
    number: number,
    change: Partial<Pick<Milestone, 'title' | 'description' | 'state' | 'due_on'>>,
  ): Milestone {
    const milestone = this.milestone(number);
    const at = this.stamp();
    if (change.state && change.state !== milestone.state)
      milestone.closed_at = change.state === 'closed' ? at : null;
    Object.assign(milestone, change, { updated_at: at });
    return milestone;
  }

  deleteMilestone(number: number): void {
    const milestone = this.milestone(number);
    this.milestones.splice(this.milestones.indexOf(milestone), 1);
    for (const item of this.items.values()) if (item.milestone === number) item.milestone = null;
  }

  // ---- issues and pull requests

  /** An issue naming a milestone that does not exist: GitHub's 422 (invalid), not 404. */
  private checkMilestone(number: number | null | undefined): void {
    if (number != null && !this.milestones.some((m) => m.number === number))
      throw invalidField('Issue', 'milestone');
  }

  item(number: number): Issue {
    const found = this.items.get(number);
    if (!found) throw notFound(`issue ${number}`);
    return found;
  }

  pull(number: number): Issue & { pull: PullFields } {
    const found = this.item(number);
    if (!found.pull) throw notFound(`pull request ${number}`);
    return found as Issue & { pull: PullFields };
  }

  addIssue(input: IssueInput): Issue {
    if (!input.title) throw missingField('Issue', 'title');
    this.checkMilestone(input.milestone);
    const created = this.stamp(input.created_at);
    const state = input.state ?? 'open';
    const issue: Issue = {
      id: this.owner.nextId(),
      number: ++this.lastNumber,
      title: input.title,
      body: input.body ?? null,
      user: input.user ?? this.settings.owner,
      state,
      state_reason: input.state_reason ?? (state === 'closed' ? 'completed' : null),
      labels: this.labelIds(input.labels ?? []),
      milestone: input.milestone ?? null,
      locked: input.locked ?? false,
      created_at: created,
      updated_at: input.updated_at ?? created,
      closed_at: state === 'closed' ? (input.updated_at ?? created) : null,
    };
    this.items.set(issue.number, issue);
    return issue;
  }

  addPull(input: PullInput): Issue & { pull: PullFields } {
    const issue = this.addIssue(input);
    issue.pull = {
      head_ref: input.head_ref ?? `feature-${issue.number}`,
      base_ref: input.base_ref ?? this.settings.default_branch,
      head_sha: input.head_sha ?? SHA(issue.number * 2 + 1),
      base_sha: input.base_sha ?? SHA(issue.number * 2),
      draft: input.draft ?? false,
      merged_at: input.merged_at ?? null,
    };
    return issue as Issue & { pull: PullFields };
  }

  /** PATCH /issues/{n}: title, body, state, state_reason, labels (names), milestone. */
  updateIssue(number: number, change: IssueInput): Issue {
    const issue = this.item(number);
    this.checkMilestone(change.milestone);
    if (change.state !== undefined && change.state !== 'open' && change.state !== 'closed') {
      throw invalidField('Issue', 'state');
    }
    const at = this.stamp(change.updated_at);
    if (change.title !== undefined) issue.title = change.title;
    if (change.body !== undefined) issue.body = change.body;
    if (change.labels !== undefined) issue.labels = this.labelIds(change.labels);
    if (change.milestone !== undefined) issue.milestone = change.milestone;
    if (change.locked !== undefined) issue.locked = change.locked;
    if (change.state !== undefined && change.state !== issue.state) {
      issue.state = change.state;
      issue.closed_at = change.state === 'closed' ? at : null;
      issue.state_reason = change.state === 'closed' ? 'completed' : 'reopened';
    }
    if (change.state_reason !== undefined) issue.state_reason = change.state_reason;
    issue.updated_at = at;
    return issue;
  }

  /** Merges a pull request (closes it, sets merged_at). */
  mergePull(number: number): Issue {
    const pull = this.pull(number);
    const at = this.stamp();
    Object.assign(pull, { state: 'closed', closed_at: at, updated_at: at, state_reason: null });
    pull.pull.merged_at = at;
    return pull;
  }

  /** Deleting an issue takes its comments with it (GitHub lets admins delete issues). */
  deleteIssue(number: number): void {
    this.item(number);
    this.items.delete(number);
    removeWhere(this.issueComments, (c) => c.issue_number === number);
    removeWhere(this.reviews, (r) => r.pull_number === number);
    removeWhere(this.reviewComments, (c) => c.pull_number === number);
  }

  // ---- comments, reviews

  issueComment(id: number): IssueComment {
    const found = this.issueComments.find((c) => c.id === id);
    if (!found) throw notFound(`comment ${id}`);
    return found;
  }

  /** A comment also changes its issue's `updated_at`, as on GitHub. */
  addIssueComment(number: number, input: { body: string; user?: string; at?: string }): IssueComment {
    if (!input.body) throw missingField('IssueComment', 'body');
    const issue = this.item(number);
    const at = this.stamp(input.at);
    const comment: IssueComment = {
      id: this.owner.nextId(),
      issue_number: number,
      body: input.body,
      user: input.user ?? this.settings.owner,
      created_at: at,
      updated_at: at,
    };
    this.issueComments.push(comment);
    if (issue.updated_at < at) issue.updated_at = at;
    return comment;
  }

  updateIssueComment(id: number, body: string): IssueComment {
    const comment = this.issueComment(id);
    comment.body = body;
    comment.updated_at = this.stamp();
    return comment;
  }

  deleteIssueComment(id: number): void {
    this.issueComments.splice(this.issueComments.indexOf(this.issueComment(id)), 1);
  }

  addReview(
    number: number,
    input: { body?: string; state?: Review['state']; user?: string; at?: string } = {},
  ): Review {
    const pull = this.pull(number);
    const at = this.stamp(input.at);
    const review: Review = {
      id: this.owner.nextId(),
      pull_number: number,
      body: input.body ?? '',
      state: input.state ?? 'COMMENTED',
      user: input.user ?? this.settings.owner,
      commit_id: pull.pull.head_sha,
      submitted_at: at,
    };
    this.reviews.push(review);
    if (pull.updated_at < at) pull.updated_at = at;
    return review;
  }

  reviewComment(id: number): ReviewComment {
    const found = this.reviewComments.find((c) => c.id === id);
    if (!found) throw notFound(`review comment ${id}`);
    return found;
  }

  addReviewComment(
    number: number,
    input: {
      body: string;
      path?: string;
      line?: number;
      review_id?: number | null;
      user?: string;
      at?: string;
    },
  ): ReviewComment {
    const pull = this.pull(number);
    const at = this.stamp(input.at);
    const comment: ReviewComment = {
      id: this.owner.nextId(),
      pull_number: number,
      review_id: input.review_id ?? null,
      body: input.body,
      path: input.path ?? 'README.md',
      line: input.line ?? 1,
      diff_hunk: '@@ -1,1 +1,1 @@',
      commit_id: pull.pull.head_sha,
      user: input.user ?? this.settings.owner,
      in_reply_to_id: null,
      created_at: at,
      updated_at: at,
    };
    this.reviewComments.push(comment);
    if (pull.updated_at < at) pull.updated_at = at;
    return comment;
  }

  updateReviewComment(id: number, body: string): ReviewComment {
    const comment = this.reviewComment(id);
    comment.body = body;
    comment.updated_at = this.stamp();
    return comment;
  }

  // ---- releases and assets

  release(id: number): Release {
    const found = this.releases.find((r) => r.id === id);
    if (!found) throw notFound(`release ${id}`);
    return found;
  }

  addRelease(input: {
    tag_name: string;
    target_commitish?: string;
    name?: string | null;
    body?: string | null;
    draft?: boolean;
    prerelease?: boolean;
    at?: string;
    author?: string;
  }): Release {
    if (!input.tag_name) throw missingField('Release', 'tag_name');
    if (this.releases.some((r) => r.tag_name === input.tag_name)) throw alreadyExists('Release', 'tag_name');
    const at = this.stamp(input.at);
    const draft = input.draft ?? false;
    const release: Release = {
      id: this.owner.nextId(),
      tag_name: input.tag_name,
      target_commitish: input.target_commitish ?? this.settings.default_branch,
      name: input.name ?? null,
      body: input.body ?? null,
      draft,
      prerelease: input.prerelease ?? false,
      author: input.author ?? this.settings.owner,
      created_at: at,
      updated_at: at,
      published_at: draft ? null : at,
      assets: [],
    };
    this.releases.push(release);
    return release;
  }

  updateRelease(
    id: number,
    change: Partial<
      Pick<Release, 'tag_name' | 'target_commitish' | 'name' | 'body' | 'draft' | 'prerelease'>
    >,
  ): Release {
    const release = this.release(id);
    if (
      change.tag_name !== undefined &&
      this.releases.some((r) => r !== release && r.tag_name === change.tag_name)
    ) {
      throw alreadyExists('Release', 'tag_name');
    }
    const at = this.stamp();
    if (change.draft === false && release.draft) release.published_at = at;
    Object.assign(release, change, { updated_at: at });
    return release;
  }

  deleteRelease(id: number): void {
    this.releases.splice(this.releases.indexOf(this.release(id)), 1);
  }

  asset(id: number): { release: Release; asset: Asset } {
    for (const release of this.releases) {
      const asset = release.assets.find((a) => a.id === id);
      if (asset) return { release, asset };
    }
    throw notFound(`asset ${id}`);
  }

  addAsset(
    releaseId: number,
    input: {
      name: string;
      bytes: Buffer | Uint8Array | string;
      label?: string | null;
      content_type?: string;
      at?: string;
    },
  ): Asset {
    const release = this.release(releaseId);
    if (!input.name) throw missingField('ReleaseAsset', 'name');
    if (release.assets.some((a) => a.name === input.name)) throw alreadyExists('ReleaseAsset', 'name');
    const at = this.stamp(input.at);
    const asset: Asset = {
      id: this.owner.nextId(),
      name: input.name,
      label: input.label ?? null,
      content_type: input.content_type ?? 'application/octet-stream',
      bytes: Buffer.from(input.bytes),
      uploader: this.settings.owner,
      download_count: 0,
      created_at: at,
      updated_at: at,
    };
    release.assets.push(asset);
    return asset;
  }

  deleteAsset(id: number): void {
    const { release, asset } = this.asset(id);
    release.assets.splice(release.assets.indexOf(asset), 1);
  }
}

function removeWhere<T>(list: T[], predicate: (item: T) => boolean): void {
  for (let i = list.length - 1; i >= 0; i--) if (predicate(list[i]!)) list.splice(i, 1);
}

/** All repositories of one fake GitHub; ids come from one sequence, as GitHub's are unique. */
export class GitHubModel {
  private readonly repositories = new Map<string, RepositoryModel>();
  private lastId = 1000;

  readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  stamp(): string {
    return isoSeconds(this.now());
  }

  nextId(): number {
    return ++this.lastId;
  }

  /** GitHub matches owner and name case-insensitively. */
  find(fullName: string): RepositoryModel | undefined {
    return this.repositories.get(fullName.toLowerCase());
  }

  all(): RepositoryModel[] {
    return [...this.repositories.values()];
  }

  repo(fullName: string): RepositoryModel {
    const found = this.find(fullName);
    if (!found)
      throw new Error(`The fake GitHub has no repository ${fullName} (addRepository or seed it first)`);
    return found;
  }

  addRepository(fullName: string, settings: SettingsInput = {}): RepositoryModel {
    const [owner, name, ...rest] = fullName.split('/');
    if (!owner || !name || rest.length > 0) throw new Error(`Not owner/name: ${fullName}`);
    if (this.find(fullName)) throw new Error(`The fake GitHub already has ${fullName}`);
    const at = this.stamp();
    const repository = new RepositoryModel(this, {
      id: this.nextId(),
      name,
      full_name: `${owner}/${name}`,
      owner,
      private: false,
      description: null,
      homepage: null,
      topics: [],
      default_branch: 'main',
      has_issues: true,
      has_projects: true,
      has_wiki: true,
      has_discussions: false,
      archived: false,
      is_template: false,
      allow_squash_merge: true,
      allow_merge_commit: true,
      allow_rebase_merge: true,
      delete_branch_on_merge: false,
      created_at: at,
      updated_at: at,
      pushed_at: at,
      ...settings,
    });
    this.repositories.set(fullName.toLowerCase(), repository);
    return repository;
  }
}
