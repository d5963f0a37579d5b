// include-metadata end to end: `node dist/index.js` exports a repository of the fake GitHub API
// (test/helpers/github-api) beside the archive, records it with the Worker, and the next runs
// fetch only what changed while each stored export stays complete. The export is read back with
// awscli and GNU tar, the record through the Worker.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { aws, runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';
import { apiClient } from '../worker/helpers.js';
import { fullEnv, runCli } from '../cli/helpers.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const BUCKET = 'tenant-a-github-backup';
const REPOSITORY = 'octo-org/autonomous-coding-agent';
let stack: LocalStack;
let github: FakeGitHub;
let work: string;
let tree: string;
let clockOffset = 86_400_000;

beforeAll(async () => {
  stack = await sharedStack();
  // Seeded a day ago: an unchanged repository's items are older than the export's cursor, which
  // is the run's start less a margin for clock skew. Changes the tests make later are dated now.
  github = await startFakeGitHub({ now: () => Date.now() - clockOffset });
  github.seed(REPOSITORY, {
    issues: 24,
    pulls: 6,
    commentsPerIssue: 2,
    reviewsPerPull: 1,
    reviewCommentsPerPull: 1,
    labels: 3,
    milestones: 2,
    releases: 2,
    assetsPerRelease: 2,
    assetBytes: 3000,
    settings: { description: 'The agent', topics: ['backup', 'r2'] },
  });
  clockOffset = 0;
  work = mkdtempSync(join(tmpdir(), 'r2-backup-meta-'));
  tree = join(work, 'tree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'README.md'), 'files\n');
}, 60_000);
afterAll(async () => {
  await github?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Through the Worker's upload route (no S3 keys) when `viaWorker`, else over S3. */
const runBackup = (
  extra: Record<string, string> = {},
  viaWorker = false,
  repository = REPOSITORY,
): Promise<RunResult> =>
  runAction({
    repository,
    inputs: {
      ...(viaWorker ? {} : s3Inputs(stack)),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: 'tenant-a',
      path: tree,
      'include-metadata': 'true',
      'github-token': github.token,
      ...extra,
    },
    env: { GITHUB_API_URL: github.apiUrl },
  });

/** The stored export, read with awscli and GNU tar (zstd): file -> text, assets as bytes. */
async function storedExport(
  key: string,
  sha256: string,
): Promise<{ dir: string; jsonl: (kind: string) => Record<string, unknown>[] }> {
  const file = join(work, `${sha256}.tar.zst`);
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, file, '--only-show-errors');
  expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(sha256);
  const dir = join(work, sha256);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  await exec('tar', ['--zstd', '-xf', file, '-C', dir]);
  const jsonl = (kind: string) =>
    readFileSync(join(dir, `${kind}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { dir, jsonl };
}

const manifestOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    requests: number;
    [field: string]: unknown;
  };

async function recordOf(backupFile: string): Promise<Record<string, unknown>> {
  const answer = await apiClient(stack, TOKEN)(`/api/github/backup/list?tenant=tenant-a&bucket=${BUCKET}`);
  const list = (await answer.json()) as { backups: Record<string, unknown>[] };
  return list.backups.find((r) => r.backup_file === backupFile)!;
}

let first: RunResult;

test('the first run exports every kind, assets included, recorded with the backup', async () => {
  github.requests.reset();
  first = await runBackup();
  // The token is masked (the runner's add-mask command), never printed.
  const printed = (first.stderr + first.stdout).replace(/^::add-mask::.*$/gm, '');
  expect(printed).not.toContain(github.token);
  expect(first.code).toBe(0);
  const { outputs } = first;
  expect(outputs['metadata-key']).toBe(outputs['backup-key']!.replace(/\.tar\.gz$/, '.meta.tar.zst'));
  expect(outputs['metadata-partial']).toBe('false');
  const { dir, jsonl } = await storedExport(outputs['metadata-key']!, outputs['metadata-sha256']!);
  expect(jsonl('issues').map((i) => i.number)).toHaveLength(24);
  expect(jsonl('pulls')).toHaveLength(6);
  expect(jsonl('issue-comments')).toHaveLength(60);
  expect(jsonl('reviews')).toHaveLength(6);
  expect(jsonl('review-comments')).toHaveLength(6);
  expect(jsonl('labels')).toHaveLength(3);
  expect(jsonl('milestones')).toHaveLength(2);
  expect(jsonl('releases')).toHaveLength(2);
  const repository = JSON.parse(readFileSync(join(dir, 'repository.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  expect(repository).toMatchObject({
    description: 'The agent',
    topics: ['backup', 'r2'],
    default_branch: 'main',
  });
  // Each asset's bytes are GitHub's, under assets/{release id}/{asset id}.
  const source = github.repo(REPOSITORY);
  let assets = 0;
  for (const release of source.releases) {
    for (const asset of release.assets) {
      const stored = readFileSync(join(dir, 'assets', String(release.id), String(asset.id)));
      expect(stored.equals(asset.bytes)).toBe(true);
      assets++;
    }
  }
  expect(assets).toBe(4);
  expect(readdirSync(join(dir, 'assets'))).toHaveLength(2);
  const manifest = manifestOf(dir);
  expect(manifest).toMatchObject({
    repository: REPOSITORY,
    partial: false,
    counts: { issues: 24, pulls: 6, assets: 4 },
  });
  expect(manifest.requests).toBe(github.requests.count({ listener: 'api' }));
  // The asset downloads went to the storage origin without the token.
  expect(github.requests.count({ listener: 'downloads' })).toBe(4);
  expect(github.requests.filter({ listener: 'downloads' }).some((r) => r.authorization)).toBe(false);
  const record = await recordOf(outputs['backup-file']!);
  expect(record).toMatchObject({
    meta_key: outputs['metadata-key'],
    meta_size: Number(outputs['metadata-size']),
    meta_sha256: outputs['metadata-sha256'],
    meta_counts: manifest.counts,
    meta_partial: false,
    verification: 'verified',
  });
  expect(first.summary).toContain(`<code>${outputs['metadata-key']}</code>`);
}, 120_000);

test('a second run of an unchanged repository asks only for what changed, and stores the same export', async () => {
  github.requests.reset();
  const second = await runBackup();
  expect(second.code).toBe(0);
  const requests = github.requests.count({ listener: 'api' });
  const firstRequests = manifestOf(
    (await storedExport(first.outputs['metadata-key']!, first.outputs['metadata-sha256']!)).dir,
  ).requests as number;
  process.stdout.write(
    `metadata export API requests: first run ${firstRequests}, unchanged second run ${requests}\n`,
  );
  expect(requests).toBeLessThanOrEqual(10);
  expect(github.requests.count({ listener: 'downloads' })).toBe(0);
  const a = await storedExport(first.outputs['metadata-key']!, first.outputs['metadata-sha256']!);
  const b = await storedExport(second.outputs['metadata-key']!, second.outputs['metadata-sha256']!);
  for (const kind of [
    'issues',
    'pulls',
    'issue-comments',
    'reviews',
    'review-comments',
    'labels',
    'milestones',
  ]) {
    expect(b.jsonl(kind)).toEqual(a.jsonl(kind));
  }
  // Releases are read whole each run: the same, but for the downloads the first export counted.
  const withoutDownloads = (releases: Record<string, unknown>[]) =>
    JSON.parse(JSON.stringify(releases).replace(/"download_count":\d+/g, '"download_count":0')) as unknown;
  expect(withoutDownloads(b.jsonl('releases'))).toEqual(withoutDownloads(a.jsonl('releases')));
  expect(readdirSync(join(b.dir, 'assets'))).toEqual(readdirSync(join(a.dir, 'assets')));
  expect(manifestOf(b.dir)).toMatchObject({ carried_from: first.outputs['backup-file'], partial: false });
}, 120_000);

test('changes between runs are fetched alone and merged; through the Worker upload route too', async () => {
  const source = github.repo(REPOSITORY);
  const issue = [...source.items.values()].find((i) => !i.pull)!;
  source.updateIssue(issue.number, { title: 'Edited title' });
  const comment = source.addIssueComment(issue.number, { body: 'A new comment' });
  source.deleteLabel('label-1');
  const release = source.addRelease({ tag_name: 'v9.0.0', name: 'Nine', body: 'notes' });
  const asset = source.addAsset(release.id, { name: 'nine.bin', bytes: Buffer.from('nine bytes') });
  github.requests.reset();
  const run = await runBackup({}, true);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('on the Worker');
  // Only the new asset is downloaded; the others are carried from the previous export.
  expect(github.requests.count({ listener: 'downloads' })).toBe(1);
  const { dir, jsonl } = await storedExport(run.outputs['metadata-key']!, run.outputs['metadata-sha256']!);
  expect(jsonl('issues').find((i) => i.number === issue.number)!.title).toBe('Edited title');
  expect(jsonl('issues')).toHaveLength(24);
  expect(jsonl('issue-comments').find((c) => c.id === comment.id)).toMatchObject({
    body: 'A new comment',
    issue_number: issue.number,
  });
  expect(jsonl('issue-comments')).toHaveLength(61);
  // A deleted label stays, marked: a backup keeps what was deleted.
  expect(jsonl('labels').find((l) => l.name === 'label-1')!.r2_backup_missing_since).toEqual(
    expect.any(String),
  );
  expect(jsonl('releases')).toHaveLength(3);
  expect(readFileSync(join(dir, 'assets', String(release.id), String(asset.id)), 'utf8')).toBe('nine bytes');
  expect(readdirSync(join(dir, 'assets')).sort()).toEqual(source.releases.map((r) => String(r.id)).sort());
}, 120_000);

test('a rate limit too long to wait for stores a partial export; the next run completes it', async () => {
  const source = github.repo(REPOSITORY);
  const extra = source.addIssue({ title: 'Filed during the limit', body: 'late' });
  github.limits.setPrimary({ limit: 5000, remaining: 4, resetInSeconds: 3600 });
  const partial = await runBackup({ 'metadata-max-wait-seconds': '0' });
  expect(partial.code).toBe(0);
  expect(partial.outputs['metadata-partial']).toBe('true');
  expect(partial.stdout).toMatch(/::warning::Metadata export is partial: .*rate limit/i);
  const stored = await storedExport(partial.outputs['metadata-key']!, partial.outputs['metadata-sha256']!);
  expect(manifestOf(stored.dir)).toMatchObject({ partial: true });
  // What the previous export held is all there: a partial export loses nothing already kept.
  expect(stored.jsonl('issue-comments')).toHaveLength(61);
  expect(await recordOf(partial.outputs['backup-file']!)).toMatchObject({ meta_partial: true });

  github.limits.setPrimary({ limit: 5000, remaining: 5000, resetInSeconds: 3600 });
  const next = await runBackup();
  expect(next.code).toBe(0);
  expect(next.outputs['metadata-partial']).toBe('false');
  const complete = await storedExport(next.outputs['metadata-key']!, next.outputs['metadata-sha256']!);
  expect(complete.jsonl('issues').map((i) => i.number)).toContain(extra.number);
  expect(complete.jsonl('issues')).toHaveLength(25);
  expect(manifestOf(complete.dir)).toMatchObject({
    partial: false,
    carried_from: partial.outputs['backup-file'],
  });
}, 120_000);

test('a tenant shared by two repositories: each export carries from its own repository only', async () => {
  github.seed('octo-org/other', { issues: 2 });
  const other = await runBackup({}, false, 'octo-org/other');
  expect(other.code).toBe(0);
  expect(other.stdout).toContain('no earlier export the Worker vouches for');
  const theirs = await storedExport(other.outputs['metadata-key']!, other.outputs['metadata-sha256']!);
  expect(theirs.jsonl('issues')).toHaveLength(2);
  expect(manifestOf(theirs.dir)).toMatchObject({ repository: 'octo-org/other' });

  const again = await runBackup();
  expect(again.code).toBe(0);
  const ours = await storedExport(again.outputs['metadata-key']!, again.outputs['metadata-sha256']!);
  expect(ours.jsonl('issues')).toHaveLength(25);
  expect(manifestOf(ours.dir).carried_from).not.toBe(other.outputs['backup-file']);
  expect(again.stdout).not.toContain('ignored');
}, 120_000);

test.each([
  [
    'include-metadata without a token',
    { 'github-token': '' },
    /Invalid github-token: is needed by include-metadata/,
  ],
  [
    'include-lfs with encryption',
    {
      'include-lfs': 'true',
      'encryption-recipients': 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
    },
    /Invalid include-lfs: cannot be used with encryption-recipients/,
  ],
  [
    'a wait that is not a number',
    { 'metadata-max-wait-seconds': 'soon' },
    /Invalid metadata-max-wait-seconds/,
  ],
])('%s is refused before anything is uploaded', async (_what, inputs, message) => {
  const before = await aws(stack, 's3api', 'list-objects-v2', '--bucket', BUCKET, '--query', 'KeyCount');
  const run = await runBackup(inputs);
  expect(run.code).not.toBe(0);
  expect(run.stdout).toMatch(message);
  expect(await aws(stack, 's3api', 'list-objects-v2', '--bucket', BUCKET, '--query', 'KeyCount')).toBe(
    before,
  );
});

test('verify checks the exports: whole, then a replaced one is found by size and by SHA-256', async () => {
  const ok = await runCli(['verify', '--tenant', 'tenant-a', '--deep'], fullEnv(stack, TOKEN));
  expect(ok.stdout).toContain('all whole');
  expect(ok.code).toBe(0);
  const answer = await apiClient(stack, TOKEN)(`/api/github/backup/list?tenant=tenant-a&bucket=${BUCKET}`);
  const [newest] = ((await answer.json()) as { backups: { meta_key?: string; meta_size?: number }[] })
    .backups;
  const key = newest!.meta_key!;
  // Same size, other bytes: only --deep can tell.
  const forged = join(work, 'forged');
  writeFileSync(forged, Buffer.alloc(newest!.meta_size!, 1));
  await aws(stack, 's3', 'cp', forged, `s3://${BUCKET}/${key}`, '--only-show-errors');
  const shallow = await runCli(['verify', '--tenant', 'tenant-a'], fullEnv(stack, TOKEN));
  expect(shallow.code).toBe(0);
  const deep = await runCli(['verify', '--tenant', 'tenant-a', '--deep'], fullEnv(stack, TOKEN));
  expect(deep.code).toBe(1);
  expect(deep.stdout).toContain(`PROBLEM ${key}`);
  // Another size: the listing alone tells.
  writeFileSync(forged, 'short');
  await aws(stack, 's3', 'cp', forged, `s3://${BUCKET}/${key}`, '--only-show-errors');
  const sized = await runCli(['verify', '--tenant', 'tenant-a'], fullEnv(stack, TOKEN));
  expect(sized.stdout).toContain(`PROBLEM ${key}: 5 bytes stored, ${newest!.meta_size} recorded`);
}, 120_000);

test('an encrypted backup encrypts its export; restore --metadata needs the identity; rekey carries the export', async () => {
  const keygen = async (name: string) => {
    const file = join(work, `${name}.key`);
    const run = await runCli(['keygen', '--output', file]);
    return { file, recipient: /Public key \(for encryption-recipients\): (age1\S+)/.exec(run.stderr)![1]! };
  };
  const [oldKey, newKey] = [await keygen('old'), await keygen('new')];
  const run = await runBackup({ 'encryption-recipients': oldKey.recipient, tenant: 'tenant-b' });
  expect(run.code).toBe(0);
  const backupFile = run.outputs['backup-file']!;
  expect(run.outputs['metadata-key']).toBe(
    `backups/tenant-b/${backupFile.replace(/\.tar\.gz\.age$/, '.meta.tar.zst.age')}`,
  );
  // The runner holds public keys only: it cannot read an earlier encrypted export, so it exports all.
  expect(run.stdout).toContain('no earlier export');
  // Stored as an age file: no zstd or tar in sight.
  const stored = join(work, 'export.age');
  await aws(
    stack,
    's3',
    'cp',
    `s3://tenant-b-github-backup/${run.outputs['metadata-key']}`,
    stored,
    '--only-show-errors',
  );
  expect(readFileSync(stored).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

  const restore = (file: string, target: string, identity?: string) =>
    runCli(
      [
        'restore',
        '--tenant',
        'tenant-b',
        '--backup',
        file,
        '--metadata',
        '--target',
        target,
        ...(identity ? ['--identity', identity] : []),
      ],
      fullEnv(stack, TOKEN),
    );
  expect((await restore(backupFile, join(work, 'no-identity'))).code).not.toBe(0);
  const plain = await restore(backupFile, join(work, 'with-identity'), oldKey.file);
  expect(plain.code).toBe(0);
  expect(readdirSync(join(work, 'with-identity', 'issues')).length).toBeGreaterThan(0);

  const recipientsFile = join(work, 'recipients.txt');
  writeFileSync(recipientsFile, `${newKey.recipient}\n`);
  const rekeyed = await runCli(
    [
      'rekey',
      '--tenant',
      'tenant-b',
      '--backup',
      backupFile,
      '--recipients',
      recipientsFile,
      '--identity',
      oldKey.file,
    ],
    fullEnv(stack, TOKEN),
  );
  expect(rekeyed.code).toBe(0);
  const newFile = /as (\S+\.tar\.gz\.age) for the recipients/.exec(rekeyed.stdout)![1]!;
  expect((await restore(newFile, join(work, 'rekeyed-old'), oldKey.file)).code).not.toBe(0);
  const again = await restore(newFile, join(work, 'rekeyed-new'), newKey.file);
  expect(again.code).toBe(0);
  expect(readFileSync(join(work, 'rekeyed-new', 'README.md'), 'utf8')).toBe(
    readFileSync(join(work, 'with-identity', 'README.md'), 'utf8'),
  );
}, 180_000);
