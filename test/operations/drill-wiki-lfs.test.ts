// Restore drills of a backup with a wiki and LFS objects, made by `node dist/index.js` with
// include-wiki (the wiki served over smart HTTP by git http-backend) and include-lfs (a file://
// LFS remote): the drill restores the wiki's history and the LFS objects with the repository's
// and names them; a replaced wiki bundle, or an LFS object replaced by other bytes of its size,
// fails the drill.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '../../scripts/local-stack.js';
import { aws, runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { fullEnv, runCli } from '../cli/helpers.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http-server.js';
import { makeWiki } from '../helpers/wiki-repository.js';
import { gitWithoutLfsContent as git, makeLfsRepository } from '../helpers/lfs-repository.js';

const TENANT = 'drilled';
const BUCKET = 'my-bucket';
const TOKEN = sharedStackToken();
const WIKI_TOKEN = 'ghs_drillwikitoken';
const lfsContent = { big: randomBytes(120_000), side: randomBytes(40_000) };
let stack: LocalStack;
let work: string;
let scratch: string;
let gitHttp: GitHttpServer;
let backup: RunResult;
let wikiHead: string;
let wikiRefs: number;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const drill = () =>
  runCli(['drill', '--tenant', TENANT, '--bucket', BUCKET], { ...fullEnv(stack, TOKEN), TMPDIR: scratch });

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-drill-wiki-lfs-'));
  scratch = join(work, 'tmp');
  mkdirSync(scratch);
  const wiki = await makeWiki(work, 'octo-org/autonomous-coding-agent', [
    { file: 'Home.md', text: '# Home\n', message: 'Home' },
  ]);
  const { server } = wiki;
  wikiHead = wiki.head;
  wikiRefs = wiki.refs;
  const { checkout } = await makeLfsRepository(work, [
    { branch: 'main', file: 'big.bin', content: lfsContent.big },
    { branch: 'side', file: 'side.bin', content: lfsContent.side },
  ]);
  gitHttp = await startGitHttpServer(server, WIKI_TOKEN);
  backup = await runAction({
    repository: 'octo-org/autonomous-coding-agent',
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: TENANT,
      bucket: BUCKET,
      path: checkout,
      exclude: '.git',
      'include-git-history': 'true',
      'include-wiki': 'true',
      'include-lfs': 'true',
      'github-token': WIKI_TOKEN,
    },
    env: { GITHUB_SERVER_URL: gitHttp.url, GITHUB_SHA: await git(checkout, 'rev-parse', 'HEAD') },
  });
  expect(backup.code).toBe(0);
  expect(backup.outputs['wiki-key']).toBeDefined();
  expect(backup.outputs['lfs-objects']).toBe('2');
}, 180_000);
afterAll(async () => {
  await gitHttp?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the drill restores the wiki and the LFS objects and names them', async () => {
  const result = await drill();
  expect(result.code).toBe(0);
  const bytes = lfsContent.big.length + lfsContent.side.length;
  expect(result.stdout).toContain(`LFS: 2 objects (${bytes} bytes), each SHA-256 verified`);
  expect(result.stdout).toContain(`wiki: bundle verified, ${wikiRefs} refs, HEAD ${wikiHead}`);
  expect(result.stdout).toContain('passed, recorded');
  expect(readdirSync(scratch)).toEqual([]);
});

test('an LFS object replaced by other bytes of its size fails the drill', async () => {
  const key = `lfs/${TENANT}/${sha256(lfsContent.side)}`;
  const original = join(work, 'side.original');
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, original, '--only-show-errors');
  const planted = join(work, 'side.planted');
  writeFileSync(planted, randomBytes(lfsContent.side.length));
  await aws(stack, 's3', 'cp', planted, `s3://${BUCKET}/${key}`, '--only-show-errors');
  try {
    const result = await drill();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `failed: The LFS object ${sha256(lfsContent.side)} does not match its metadata`,
    );
    expect(result.stdout).not.toContain('LFS: 2 objects');
    expect(result.stdout).toContain('FAILED, recorded');
    expect(readdirSync(scratch)).toEqual([]);
  } finally {
    await aws(stack, 's3', 'cp', original, `s3://${BUCKET}/${key}`, '--only-show-errors');
  }
});

test('a replaced wiki bundle fails the drill', async () => {
  const replaced = join(work, 'replaced.bundle');
  writeFileSync(replaced, 'not the wiki that was recorded');
  await aws(
    stack,
    's3',
    'cp',
    replaced,
    `s3://${BUCKET}/${backup.outputs['wiki-key']!}`,
    '--only-show-errors',
  );
  const result = await drill();
  expect(result.code).toBe(1);
  // The repository's history and its LFS objects passed before the wiki was reached.
  expect(result.stdout).toContain('LFS: 2 objects');
  expect(result.stdout).toMatch(/failed: .*does not match its metadata/);
  expect(result.stdout).toContain('FAILED, recorded');
  expect(readdirSync(scratch)).toEqual([]);
});
