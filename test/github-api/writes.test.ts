// The write endpoints replay uses, through @octokit/core: labels, milestones, issues, comments,
// releases and asset uploads through the release's upload_url, with GitHub's 422 on duplicates.
import { Octokit } from '@octokit/core';
import { RequestError } from '@octokit/request-error';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';

let github: FakeGitHub;
let octokit: Octokit;
let now = Date.parse('2026-03-01T10:00:00Z');
const repo = { owner: 'acme', repo: 'target' };

beforeAll(async () => {
  github = await startFakeGitHub({ now: () => now });
  github.addRepository('acme/target');
  octokit = new Octokit({ auth: github.token, baseUrl: github.apiUrl });
});
afterAll(() => github.stop());

async function refusal(promise: Promise<unknown>): Promise<{ status: number; data: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RequestError) return { status: error.status, data: error.response?.data };
    throw error;
  }
  throw new Error('The request was not refused');
}

test('labels: created with 201; a duplicate name (any case) is 422 already_exists', async () => {
  const created = await octokit.request('POST /repos/{owner}/{repo}/labels', {
    ...repo,
    name: 'bug',
    color: 'f00000',
  });
  expect(created.status).toBe(201);
  expect(created.data).toMatchObject({
    name: 'bug',
    color: 'f00000',
    url: `${github.apiUrl}/repos/acme/target/labels/bug`,
  });
  const duplicate = await refusal(
    octokit.request('POST /repos/{owner}/{repo}/labels', { ...repo, name: 'BUG' }),
  );
  expect(duplicate).toEqual({
    status: 422,
    data: expect.objectContaining({
      message: 'Validation Failed',
      errors: [expect.objectContaining({ code: 'already_exists' })],
    }),
  });
  expect(github.repo('acme/target').labels.map((l) => l.name)).toEqual(['bug']);
});

test('milestones, issues with labels and milestone, PATCH, comments; updated_at from the clock', async () => {
  const milestone = await octokit.request('POST /repos/{owner}/{repo}/milestones', { ...repo, title: 'v1' });
  expect(milestone.data.number).toBe(1);
  expect(
    (await refusal(octokit.request('POST /repos/{owner}/{repo}/milestones', { ...repo, title: 'v1' })))
      .status,
  ).toBe(422);

  const issue = await octokit.request('POST /repos/{owner}/{repo}/issues', {
    ...repo,
    title: 'Replayed',
    body: 'Original text',
    labels: ['bug', 'new-label'],
    milestone: 1,
    assignees: ['someone'],
  });
  expect(issue.status).toBe(201);
  expect(issue.data).toMatchObject({
    number: 1,
    state: 'open',
    milestone: { number: 1, title: 'v1' },
    created_at: '2026-03-01T10:00:00Z',
  });
  expect(issue.data.labels.map((l) => (typeof l === 'string' ? l : l.name))).toEqual(['bug', 'new-label']);

  now += 90_000;
  const closed = await octokit.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
    ...repo,
    issue_number: 1,
    state: 'closed',
    state_reason: 'not_planned',
    labels: ['bug'],
    milestone: null,
  });
  expect(closed.data).toMatchObject({
    state: 'closed',
    state_reason: 'not_planned',
    milestone: null,
    closed_at: '2026-03-01T10:01:30Z',
    updated_at: '2026-03-01T10:01:30Z',
  });
  expect(closed.data.labels).toHaveLength(1);

  now += 30_000;
  const comment = await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...repo,
    issue_number: 1,
    body: 'Quoted comment',
  });
  expect(comment.status).toBe(201);
  expect(comment.data.issue_url).toBe(`${github.apiUrl}/repos/acme/target/issues/1`);
  const read = await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}', {
    ...repo,
    issue_number: 1,
  });
  expect([read.data.comments, read.data.updated_at]).toEqual([1, '2026-03-01T10:02:00Z']);
  expect(
    (
      await refusal(
        octokit.request('POST /repos/{owner}/{repo}/issues', { ...repo, title: 'x', milestone: 9 }),
      )
    ).status,
  ).toBe(422);
});

test('releases: 422 on a duplicate tag; assets uploaded through upload_url, 422 on a duplicate name, then downloadable', async () => {
  const release = await octokit.request('POST /repos/{owner}/{repo}/releases', {
    ...repo,
    tag_name: 'v1.0.0',
    target_commitish: 'main',
    name: 'One',
    body: 'Notes',
    draft: true,
  });
  expect(release.status).toBe(201);
  expect(release.data).toMatchObject({ draft: true, published_at: null });
  expect(
    (await refusal(octokit.request('POST /repos/{owner}/{repo}/releases', { ...repo, tag_name: 'v1.0.0' })))
      .status,
  ).toBe(422);
  const published = await octokit.request('PATCH /repos/{owner}/{repo}/releases/{release_id}', {
    ...repo,
    release_id: release.data.id,
    draft: false,
  });
  expect(published.data.draft).toBe(false);
  expect(published.data.published_at).not.toBeNull();

  expect(release.data.upload_url).toBe(
    `${github.uploadsUrl}/repos/acme/target/releases/${release.data.id}/assets{?name,label}`,
  );
  const bytes = Buffer.from('asset bytes \u0000\u00ff');
  const upload = (): Promise<{ status: number; data: { id: number; size: number; name: string } }> =>
    octokit.request({
      method: 'POST',
      url: release.data.upload_url,
      name: 'tool.bin',
      label: 'The tool',
      data: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
  const uploaded = await upload();
  expect(uploaded.status).toBe(201);
  expect(uploaded.data).toMatchObject({ name: 'tool.bin', size: bytes.length });
  expect((await refusal(upload())).status).toBe(422);
  expect(
    github.requests.filter({ listener: 'uploads' }).map((r) => [r.method, r.status, r.authorization]),
  ).toEqual([
    ['POST', 201, true],
    ['POST', 422, true],
  ]);

  const download = await octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
    ...repo,
    asset_id: uploaded.data.id,
    headers: { accept: 'application/octet-stream' },
  });
  expect(Buffer.from(download.data as unknown as ArrayBuffer).equals(bytes)).toBe(true);
});

test('direct mutators a test uses between runs: delete a label, edit a comment, add a release', () => {
  const target = github.repo('acme/target');
  target.deleteLabel('new-label');
  expect(target.labels.map((l) => l.name)).toEqual(['bug']);
  now += 60_000;
  const comment = target.updateIssueComment(target.issueComments[0]!.id, 'Edited');
  expect(comment.updated_at).toBe('2026-03-01T10:03:00Z');
  expect(() => target.addRelease({ tag_name: 'v1.0.0' })).toThrow('Validation Failed');
});
