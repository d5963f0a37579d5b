// include-wiki and include-lfs end to end through `node dist/index.js`: the wiki (a bare
// repository `{repo}.wiki.git` served over smart HTTP by git's http-backend, which asks for the
// token as GitHub does) and the LFS
// objects of every ref (a file:// LFS remote) are stored with the backup and recorded; a second
// backup uploads no LFS object again; `r2-backup restore --history` brings back the files'
// content and `restore --wiki` the wiki, checked with git.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../scripts/local-stack.js';
import { aws, listKeys, runAction, s3Inputs } from '../action/helpers.js';
import { fullEnv, runCli, workerEnv } from '../cli/helpers.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http-server.js';
import { gitWithoutLfsContent, makeLfsRepository } from '../helpers/lfs-repository.js';
import { makeWiki } from '../helpers/wiki-repository.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const BUCKET = 'tenant-a-github-backup';
const REPOSITORY = 'octo-org/autonomous-coding-agent';
let stack: LocalStack;
let work: string;
let server: string;
let gitHttp: GitHttpServer;
const WIKI_TOKEN = 'ghs_wikitoken1234';
let checkout: string;
const lfsContent = { big: randomBytes(250_000), side: randomBytes(90_000) };

const git = gitWithoutLfsContent;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The wiki at {server}/{owner}/{repo}.wiki.git with a page, and a repository whose LFS objects
 *  (one only on a side branch) are on a file:// remote, cloned without them. */
async function makeRepositories(): Promise<void> {
  ({ server } = await makeWiki(work, REPOSITORY, [
    { file: 'Home.md', text: '# Home\n\nThe wiki.\n', message: 'Home' },
  ]));

  ({ checkout } = await makeLfsRepository(work, [
    { branch: 'main', file: 'big.bin', content: lfsContent.big },
    { branch: 'side', file: 'side.bin', content: lfsContent.side },
  ]));
}

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-wiki-lfs-'));
  await makeRepositories();
  gitHttp = await startGitHttpServer(server, WIKI_TOKEN);
}, 120_000);
afterAll(async () => {
  await gitHttp?.stop();
  rmSync(work, { recursive: true, force: true });
});

const runBackup = async (viaWorker = false) =>
  runAction({
    repository: REPOSITORY,
    inputs: {
      ...(viaWorker ? {} : s3Inputs(stack)),
      'api-url': stack.url,
      'api-token': TOKEN,
      tenant: 'tenant-a',
      path: checkout,
      exclude: '.git',
      'include-git-history': 'true',
      'include-wiki': 'true',
      'include-lfs': 'true',
      'github-token': WIKI_TOKEN,
    },
    env: { GITHUB_SERVER_URL: gitHttp.url, GITHUB_SHA: await git(checkout, 'rev-parse', 'HEAD') },
  });

let backupFile: string;

test('the wiki and the LFS objects of every ref are stored and recorded; the next backup uploads no object again', async () => {
  const first = await runBackup();
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('Recorded ');
  // The wiki was read with the token, sent as a header (never in the URL or the log).
  expect(gitHttp.requests.length).toBeGreaterThan(0);
  expect(gitHttp.requests.every((r) => r.authorized)).toBe(true);
  expect(first.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain(WIKI_TOKEN);
  const { outputs } = first;
  backupFile = outputs['backup-file']!;
  expect(outputs['wiki-key']).toBe(outputs['backup-key']!.replace(/\.tar\.gz$/, '.wiki.bundle'));
  expect(outputs['lfs-objects']).toBe('2');
  expect(outputs['lfs-stored']).toBe('2');
  const stored = await listKeys(stack, BUCKET, 'lfs/tenant-a/');
  expect(stored.sort()).toEqual(
    Object.values(lfsContent)
      .map((b) => `lfs/tenant-a/${sha256(b)}`)
      .sort(),
  );
  expect(first.summary).toContain('LFS objects');

  // Through the Worker's upload route, the objects already there are not sent again.
  const second = await runBackup(true);
  expect(second.code).toBe(0);
  expect(second.outputs['lfs-objects']).toBe('2');
  expect(second.outputs['lfs-stored']).toBe('0');
  expect(second.outputs['wiki-key']).toBeDefined();
}, 180_000);

test('restore --history checks out the LFS content; restore --wiki gives the wiki back', async () => {
  const target = join(work, 'restored');
  const restored = await runCli(
    ['restore', '--tenant', 'tenant-a', '--backup', backupFile, '--history', '--target', target],
    fullEnv(stack, TOKEN),
  );
  expect(restored.code).toBe(0);
  expect(restored.stdout).toContain('Restored 2 LFS objects');
  expect(readFileSync(join(target, 'big.bin')).equals(lfsContent.big)).toBe(true);
  // The side branch's object is in the store, so checking it out needs no remote.
  // (git-lfs's smudge filter on, as for a user; the fixture's helper turns it off.)
  await exec('git', ['checkout', '--quiet', '--detach', 'refs/remotes/origin/side'], { cwd: target });
  expect(readFileSync(join(target, 'side.bin')).equals(lfsContent.side)).toBe(true);

  const wiki = join(work, 'wiki');
  const wikiRun = await runCli(
    ['restore', '--tenant', 'tenant-a', '--backup', backupFile, '--wiki', '--target', wiki],
    workerEnv(stack, TOKEN),
  );
  expect(wikiRun.code).toBe(0);
  expect(wikiRun.stdout).toContain("Restored the wiki's history");
  expect(readFileSync(join(wiki, 'Home.md'), 'utf8')).toContain('The wiki.');
  expect(await git(wiki, 'log', '--format=%s')).toBe('Home');
}, 120_000);

test('a backup without a wiki says so and stores none; --wiki then refuses it', async () => {
  rmSync(join(server, 'octo-org', 'autonomous-coding-agent.wiki.git'), { recursive: true });
  const run = await runBackup();
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('::warning::include-wiki:');
  expect(run.outputs['wiki-key']).toBeUndefined();
  const file = run.outputs['backup-file']!;
  expect(await listKeys(stack, BUCKET, `backups/tenant-a/${file.replace(/\.tar\.gz$/, '.wiki')}`)).toEqual(
    [],
  );
  const refused = await runCli(
    ['restore', '--tenant', 'tenant-a', '--backup', file, '--wiki', '--target', join(work, 'none')],
    fullEnv(stack, TOKEN),
  );
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('has no wiki');
}, 120_000);

test('verify --deep hashes every LFS object the lists name; one replaced by bytes of its size is found', async () => {
  const verify = () => runCli(['verify', '--tenant', 'tenant-a', '--deep'], fullEnv(stack, TOKEN));
  const whole = await verify();
  expect(whole.stdout).toContain('all whole');
  expect(whole.code).toBe(0);
  const key = `lfs/tenant-a/${sha256(lfsContent.side)}`;
  const forged = join(work, 'forged-lfs');
  writeFileSync(forged, randomBytes(lfsContent.side.length));
  await aws(stack, 's3', 'cp', forged, `s3://${BUCKET}/${key}`, '--only-show-errors');
  const found = await verify();
  expect(found.code).toBe(1);
  expect(found.stdout).toContain(`PROBLEM ${key}: SHA-256`);
}, 120_000);
