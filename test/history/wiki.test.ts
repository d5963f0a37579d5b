// include-wiki's library: a local bare repository stands in for `{owner}/{repo}.wiki.git`
// (GITHUB_SERVER_URL as file://); bundleWiki mirrors it and stores a bundle on the local stack
// that git accepts with every ref; a wiki with no repository or no ref stores nothing; the token
// never reaches git's command line or the messages.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createS3Client } from '../../core/r2/client.js';
import { bundleWiki, scrubToken, wikiRemote } from '../../core/git/wiki.js';
import { S3Uploader } from '../../core/upload/s3-uploader.js';
import { MIN_PART_SIZE } from '../../core/upload/uploader.js';
import { LOCAL_S3_CREDENTIALS, type LocalStack } from '../../scripts/local-stack.js';
import { aws, listKeys } from '../action/helpers.js';
import { sharedStack } from '../helpers/shared-stack.js';

const exec = promisify(execFile);
const BUCKET = 'tenant-a-github-backup';
let stack: LocalStack;
let work: string;
let server: string;

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (
    await exec('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd })
  ).stdout.trim();

const uploader = () =>
  new S3Uploader(
    createS3Client({ endpoint: stack.s3Endpoint, ...LOCAL_S3_CREDENTIALS }),
    BUCKET,
    stack.s3Endpoint,
    'application/octet-stream',
  );

/** A wiki as GitHub keeps one: a bare repository `{owner}/{repo}.wiki.git` under the server. */
async function makeWiki(owner: string, repo: string): Promise<string> {
  const bare = join(server, owner, `${repo}.wiki.git`);
  mkdirSync(join(server, owner), { recursive: true });
  await git(work, 'init', '--quiet', '--bare', '--initial-branch=master', bare);
  const editor = mkdtempSync(join(work, 'editor-'));
  await git(editor, 'init', '--quiet', '--initial-branch=master');
  writeFileSync(join(editor, 'Home.md'), '# Home\n');
  await git(editor, 'add', 'Home.md');
  await git(editor, 'commit', '--quiet', '-m', 'Home');
  writeFileSync(join(editor, 'Setup.md'), '# Setup\n');
  await git(editor, 'add', 'Setup.md');
  await git(editor, 'commit', '--quiet', '-m', 'Setup');
  await git(editor, 'push', '--quiet', bare, 'master');
  await git(editor, 'push', '--quiet', bare, 'master:refs/heads/draft');
  return bare;
}

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-wiki-test-'));
  server = join(work, 'server');
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('wikiRemote builds {server}/{owner}/{repo}.wiki.git from validated parts', () => {
  expect(wikiRemote('https://github.com', 'octo-org/app')).toBe('https://github.com/octo-org/app.wiki.git');
  expect(wikiRemote('https://ghe.example.com/', 'o/r')).toBe('https://ghe.example.com/o/r.wiki.git');
  expect(wikiRemote('file:///srv/git', 'o/r')).toBe('file:///srv/git/o/r.wiki.git');
  expect(() => wikiRemote('https://user:secret@github.com', 'o/r')).toThrow(
    /Invalid GITHUB_SERVER_URL: must not contain credentials/,
  );
  expect(() => wikiRemote('ssh://github.com', 'o/r')).toThrow(/Invalid GITHUB_SERVER_URL/);
  expect(() => wikiRemote('https://github.com/x?y', 'o/r')).toThrow(/Invalid GITHUB_SERVER_URL/);
  expect(() => wikiRemote('https://github.com', 'o/r/x')).toThrow(/Invalid GITHUB_REPOSITORY/);
  expect(() => wikiRemote('file:///srv/git', '../..')).toThrow(
    /Invalid GITHUB_REPOSITORY: must not have a part/,
  );
  expect(wikiRemote('https://github.com', 'octo-org/.github')).toBe(
    'https://github.com/octo-org/.github.wiki.git',
  );
});

test('the wiki is stored as a bundle git verifies, with every ref', async () => {
  const bare = await makeWiki('octo-org', 'app');
  const remote = wikiRemote(`file://${server}`, 'octo-org/app');
  const key = 'backups/tenant-a/20250101-000000.wiki.bundle';
  const pending = (await uploader().begin(key))!;
  const lines: string[] = [];
  // Its own temporary directory, to see the mirror removed.
  const temporary = mkdtempSync(join(work, 'tmp-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = temporary;
  let digest;
  try {
    digest = await bundleWiki({
      remote,
      token: 'ghs_wikiTokenNeverShown',
      pending,
      partSize: MIN_PART_SIZE,
      log: (line) => lines.push(line),
    });
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
  expect(digest).toBeDefined();
  const file = join(work, 'stored.bundle');
  await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, file, '--only-show-errors');
  // A fresh repository (git verifies a bundle inside one): the bundle needs nothing it lacks.
  const checker = mkdtempSync(join(work, 'checker-'));
  await git(checker, 'init', '--quiet');
  await git(checker, 'bundle', 'verify', '--quiet', file);
  const heads = await git(checker, 'bundle', 'list-heads', file);
  const refs = await git(bare, 'for-each-ref', '--format=%(objectname) %(refname)');
  for (const line of refs.split('\n')) expect(heads).toContain(line);
  expect(heads).toContain('refs/heads/draft');
  const bytes = readFileSync(file);
  expect(digest).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
  expect(lines.join('\n')).not.toContain('ghs_wikiTokenNeverShown');
  expect(readdirSync(temporary)).toEqual([]);
});

test.each([
  ['a repository with no wiki (no page yet)', 'octo-org/no-wiki', '20250101-000001'],
  ['a wiki repository without any ref', 'empty/r', '20250101-000002'],
])('%s stores nothing and answers undefined', async (_what, repository, stamp) => {
  mkdirSync(join(server, 'empty'), { recursive: true });
  if (!existsSync(join(server, 'empty', 'r.wiki.git')))
    await git(work, 'init', '--quiet', '--bare', join(server, 'empty', 'r.wiki.git'));
  const key = `backups/tenant-a/${stamp}.wiki.bundle`;
  const pending = (await uploader().begin(key))!;
  const answer = await bundleWiki({
    remote: wikiRemote(`file://${server}`, repository),
    pending,
    partSize: MIN_PART_SIZE,
    log: () => undefined,
  });
  expect(answer).toBeUndefined();
  await pending.abort();
  expect(await listKeys(stack, BUCKET, 'backups/tenant-a/')).not.toContain(key);
});

test('another failure throws with git message, and the token goes to git only through its environment', async () => {
  // A fake git first on PATH records its command line and environment, then fails as an
  // unreachable server would, echoing the header (as a verbose git could).
  const bin = mkdtempSync(join(work, 'bin-'));
  const record = join(work, 'fake-git.txt');
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh\nprintf '%s\\n' "$@" > ${record}\nenv | grep GIT_ >> ${record}\n` +
      `echo "fatal: unable to access 'https://github.com/o/r.wiki.git/': Could not resolve host (\${GIT_CONFIG_VALUE_0})" >&2\nexit 128\n`,
  );
  chmodSync(join(bin, 'git'), 0o755);
  const token = 'ghp_s3cretTokenValue';
  let sent = 0;
  const pending = { send: async () => void sent++, abort: async () => undefined };
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  let error: Error | undefined;
  try {
    await bundleWiki({
      remote: wikiRemote('https://github.com', 'o/r'),
      token,
      pending,
      partSize: MIN_PART_SIZE,
      log: () => undefined,
    }).catch((caught: Error) => (error = caught));
  } finally {
    process.env.PATH = path;
  }
  expect(error?.message).toMatch(
    /git clone of the wiki https:\/\/github.com\/o\/r.wiki.git failed: .*Could not resolve host/,
  );
  expect(error?.message).not.toContain(token);
  expect(error?.message).not.toContain(Buffer.from(`x-access-token:${token}`).toString('base64'));
  expect(sent).toBe(0);
  const seen = readFileSync(record, 'utf8');
  const [argv, env] = [seen.split('GIT_')[0]!, seen.slice(seen.indexOf('GIT_'))];
  expect(argv).toContain('https://github.com/o/r.wiki.git');
  expect(argv).not.toContain(token);
  expect(argv).not.toContain(Buffer.from(`x-access-token:${token}`).toString('base64'));
  expect(env).toContain('GIT_CONFIG_KEY_0=http.https://github.com/.extraheader');
  expect(env).toContain(
    `GIT_CONFIG_VALUE_0=AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
  );
  expect(env).toContain('GIT_TERMINAL_PROMPT=0');
});

test('scrubToken hides the token and its header form', () => {
  const token = 'abc123';
  const header = Buffer.from(`x-access-token:${token}`).toString('base64');
  expect(scrubToken(`x ${token} y ${header}`, token)).toBe('x *** y ***');
  expect(scrubToken('plain', undefined)).toBe('plain');
});
