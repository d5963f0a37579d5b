// The model's records shaped as GitHub's REST API answers them (field names as in the recorded
// responses of @octokit/fixtures), with url fields on the fake's own listeners.
import type {
  Asset,
  Issue,
  IssueComment,
  Label,
  Milestone,
  Release,
  RepositoryModel,
  Review,
  ReviewComment,
} from './model.js';

export interface Origins {
  /** The API listener (GITHUB_API_URL); html_url fields use it too. */
  api: string;
  /** Where release assets are uploaded (the upload_url template). */
  uploads: string;
}

type Json = Record<string, unknown>;

const nodeId = (type: string, id: number): string => Buffer.from(`0:${type}${id}`).toString('base64');

/** Users are known by login only; a stable id is made from it. */
export function user(origins: Origins, login: string): Json {
  let id = 0;
  for (const char of login) id = (id * 31 + char.charCodeAt(0)) % 1_000_000;
  return {
    login,
    id: id + 1,
    node_id: nodeId('User', id + 1),
    avatar_url: `${origins.api}/avatars/${login}`,
    gravatar_id: '',
    url: `${origins.api}/users/${login}`,
    html_url: `${origins.api}/${login}`,
    type: 'User',
    site_admin: false,
  };
}

const repoApi = (o: Origins, repo: RepositoryModel): string => `${o.api}/repos/${repo.settings.full_name}`;
const repoHtml = (o: Origins, repo: RepositoryModel): string => `${o.api}/${repo.settings.full_name}`;

export function repository(o: Origins, repo: RepositoryModel): Json {
  const s = repo.settings;
  const api = repoApi(o, repo);
  const openIssues = [...repo.items.values()].filter((i) => i.state === 'open').length;
  return {
    id: s.id,
    node_id: nodeId('Repository', s.id),
    name: s.name,
    full_name: s.full_name,
    private: s.private,
    owner: user(o, s.owner),
    html_url: repoHtml(o, repo),
    description: s.description,
    fork: false,
    url: api,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    labels_url: `${api}/labels{/name}`,
    milestones_url: `${api}/milestones{/number}`,
    releases_url: `${api}/releases{/id}`,
    created_at: s.created_at,
    updated_at: s.updated_at,
    pushed_at: s.pushed_at,
    git_url: `${repoHtml(o, repo)}.git`,
    clone_url: `${repoHtml(o, repo)}.git`,
    homepage: s.homepage,
    size: 0,
    has_issues: s.has_issues,
    has_projects: s.has_projects,
    has_downloads: true,
    has_wiki: s.has_wiki,
    has_pages: false,
    has_discussions: s.has_discussions,
    archived: s.archived,
    disabled: false,
    open_issues_count: openIssues,
    license: null,
    is_template: s.is_template,
    topics: [...s.topics],
    visibility: s.private ? 'private' : 'public',
    open_issues: openIssues,
    default_branch: s.default_branch,
    allow_squash_merge: s.allow_squash_merge,
    allow_merge_commit: s.allow_merge_commit,
    allow_rebase_merge: s.allow_rebase_merge,
    delete_branch_on_merge: s.delete_branch_on_merge,
  };
}

export function label(o: Origins, repo: RepositoryModel, l: Label): Json {
  return {
    id: l.id,
    node_id: nodeId('Label', l.id),
    url: `${repoApi(o, repo)}/labels/${encodeURIComponent(l.name)}`,
    name: l.name,
    color: l.color,
    default: l.default,
    description: l.description,
  };
}

export function milestone(o: Origins, repo: RepositoryModel, m: Milestone): Json {
  const items = [...repo.items.values()].filter((i) => i.milestone === m.number);
  return {
    url: `${repoApi(o, repo)}/milestones/${m.number}`,
    html_url: `${repoHtml(o, repo)}/milestone/${m.number}`,
    labels_url: `${repoApi(o, repo)}/milestones/${m.number}/labels`,
    id: m.id,
    node_id: nodeId('Milestone', m.id),
    number: m.number,
    title: m.title,
    description: m.description,
    creator: user(o, m.creator),
    open_issues: items.filter((i) => i.state === 'open').length,
    closed_issues: items.filter((i) => i.state === 'closed').length,
    state: m.state,
    created_at: m.created_at,
    updated_at: m.updated_at,
    due_on: m.due_on,
    closed_at: m.closed_at,
  };
}

/** An issue or a pull request as GET /issues lists it (a pull request with `pull_request`). */
export function issue(o: Origins, repo: RepositoryModel, i: Issue): Json {
  const api = `${repoApi(o, repo)}/issues/${i.number}`;
  const labels = i.labels
    .flatMap((id) => repo.labels.filter((l) => l.id === id))
    .map((l) => label(o, repo, l));
  const m = i.milestone === null ? undefined : repo.milestones.find((x) => x.number === i.milestone);
  const comments = repo.issueComments.filter((c) => c.issue_number === i.number).length;
  return {
    url: api,
    repository_url: repoApi(o, repo),
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `${repoHtml(o, repo)}/${i.pull ? 'pull' : 'issues'}/${i.number}`,
    id: i.id,
    node_id: nodeId(i.pull ? 'PullRequest' : 'Issue', i.id),
    number: i.number,
    title: i.title,
    user: user(o, i.user),
    labels,
    state: i.state,
    locked: i.locked,
    assignee: null,
    assignees: [],
    milestone: m ? milestone(o, repo, m) : null,
    comments,
    created_at: i.created_at,
    updated_at: i.updated_at,
    closed_at: i.closed_at,
    author_association: 'OWNER',
    active_lock_reason: null,
    ...(i.pull
      ? {
          draft: i.pull.draft,
          pull_request: {
            url: `${repoApi(o, repo)}/pulls/${i.number}`,
            html_url: `${repoHtml(o, repo)}/pull/${i.number}`,
            diff_url: `${repoHtml(o, repo)}/pull/${i.number}.diff`,
            patch_url: `${repoHtml(o, repo)}/pull/${i.number}.patch`,
            merged_at: i.pull.merged_at,
          },
        }
      : {}),
    body: i.body,
    timeline_url: `${api}/timeline`,
    performed_via_github_app: null,
    state_reason: i.pull ? null : i.state_reason,
  };
}

/** GET /pulls and /pulls/{n} (the single one has the counts too). */
export function pull(o: Origins, repo: RepositoryModel, i: Issue, full: boolean): Json {
  const p = i.pull!;
  const api = `${repoApi(o, repo)}/pulls/${i.number}`;
  const asIssue = issue(o, repo, i);
  const side = (ref: string, sha: string): Json => ({
    label: `${repo.settings.owner}:${ref}`,
    ref,
    sha,
    user: user(o, repo.settings.owner),
    repo: repository(o, repo),
  });
  return {
    url: api,
    id: i.id,
    node_id: nodeId('PullRequest', i.id),
    html_url: `${repoHtml(o, repo)}/pull/${i.number}`,
    diff_url: `${repoHtml(o, repo)}/pull/${i.number}.diff`,
    patch_url: `${repoHtml(o, repo)}/pull/${i.number}.patch`,
    issue_url: `${repoApi(o, repo)}/issues/${i.number}`,
    number: i.number,
    state: i.state,
    locked: i.locked,
    title: i.title,
    user: asIssue.user,
    body: i.body,
    created_at: i.created_at,
    updated_at: i.updated_at,
    closed_at: i.closed_at,
    merged_at: p.merged_at,
    merge_commit_sha: p.merged_at ? p.head_sha : null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    labels: asIssue.labels,
    milestone: asIssue.milestone,
    draft: p.draft,
    commits_url: `${api}/commits`,
    review_comments_url: `${api}/comments`,
    review_comment_url: `${repoApi(o, repo)}/pulls/comments{/number}`,
    comments_url: `${repoApi(o, repo)}/issues/${i.number}/comments`,
    head: side(p.head_ref, p.head_sha),
    base: side(p.base_ref, p.base_sha),
    author_association: 'OWNER',
    ...(full
      ? {
          merged: p.merged_at !== null,
          mergeable: i.state === 'open' ? true : null,
          comments: asIssue.comments,
          review_comments: repo.reviewComments.filter((c) => c.pull_number === i.number).length,
          commits: 1,
          additions: 1,
          deletions: 0,
          changed_files: 1,
        }
      : {}),
  };
}

export function issueComment(o: Origins, repo: RepositoryModel, c: IssueComment): Json {
  const item = repo.items.get(c.issue_number);
  return {
    url: `${repoApi(o, repo)}/issues/comments/${c.id}`,
    html_url: `${repoHtml(o, repo)}/${item?.pull ? 'pull' : 'issues'}/${c.issue_number}#issuecomment-${c.id}`,
    issue_url: `${repoApi(o, repo)}/issues/${c.issue_number}`,
    id: c.id,
    node_id: nodeId('IssueComment', c.id),
    user: user(o, c.user),
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: 'OWNER',
    body: c.body,
    performed_via_github_app: null,
  };
}

export function review(o: Origins, repo: RepositoryModel, r: Review): Json {
  return {
    id: r.id,
    node_id: nodeId('PullRequestReview', r.id),
    user: user(o, r.user),
    body: r.body,
    state: r.state,
    html_url: `${repoHtml(o, repo)}/pull/${r.pull_number}#pullrequestreview-${r.id}`,
    pull_request_url: `${repoApi(o, repo)}/pulls/${r.pull_number}`,
    author_association: 'OWNER',
    submitted_at: r.submitted_at,
    commit_id: r.commit_id,
  };
}

export function reviewComment(o: Origins, repo: RepositoryModel, c: ReviewComment): Json {
  return {
    url: `${repoApi(o, repo)}/pulls/comments/${c.id}`,
    pull_request_review_id: c.review_id,
    id: c.id,
    node_id: nodeId('PullRequestReviewComment', c.id),
    diff_hunk: c.diff_hunk,
    path: c.path,
    commit_id: c.commit_id,
    original_commit_id: c.commit_id,
    user: user(o, c.user),
    body: c.body,
    created_at: c.created_at,
    updated_at: c.updated_at,
    html_url: `${repoHtml(o, repo)}/pull/${c.pull_number}#discussion_r${c.id}`,
    pull_request_url: `${repoApi(o, repo)}/pulls/${c.pull_number}`,
    author_association: 'OWNER',
    in_reply_to_id: c.in_reply_to_id ?? undefined,
    line: c.line,
    original_line: c.line,
    side: 'RIGHT',
  };
}

export function asset(o: Origins, repo: RepositoryModel, r: Release, a: Asset): Json {
  return {
    url: `${repoApi(o, repo)}/releases/assets/${a.id}`,
    id: a.id,
    node_id: nodeId('ReleaseAsset', a.id),
    name: a.name,
    label: a.label,
    uploader: user(o, a.uploader),
    content_type: a.content_type,
    state: 'uploaded',
    size: a.bytes.length,
    download_count: a.download_count,
    created_at: a.created_at,
    updated_at: a.updated_at,
    browser_download_url: `${repoHtml(o, repo)}/releases/download/${encodeURIComponent(r.tag_name)}/${encodeURIComponent(a.name)}`,
  };
}

export function release(o: Origins, repo: RepositoryModel, r: Release): Json {
  const api = `${repoApi(o, repo)}/releases/${r.id}`;
  return {
    url: api,
    assets_url: `${api}/assets`,
    upload_url: `${o.uploads}/repos/${repo.settings.full_name}/releases/${r.id}/assets{?name,label}`,
    html_url: `${repoHtml(o, repo)}/releases/tag/${encodeURIComponent(r.tag_name)}`,
    id: r.id,
    author: user(o, r.author),
    node_id: nodeId('Release', r.id),
    tag_name: r.tag_name,
    target_commitish: r.target_commitish,
    name: r.name,
    draft: r.draft,
    prerelease: r.prerelease,
    created_at: r.created_at,
    updated_at: r.updated_at,
    published_at: r.published_at,
    assets: r.assets.map((a) => asset(o, repo, r, a)),
    tarball_url: `${repoApi(o, repo)}/tarball/${encodeURIComponent(r.tag_name)}`,
    zipball_url: `${repoApi(o, repo)}/zipball/${encodeURIComponent(r.tag_name)}`,
    body: r.body,
  };
}
