// The restore sub-action's `metadata: true` and `wiki: true`, through `node dist/restore/index.js`:
// an export (written by hand, packed with GNU tar --zstd) stored in the local R2 with a record
// through the Worker comes back rendered with its outputs set; a wiki backed up by
// `node dist/index.js` (include-wiki, served by git http-backend) comes back as the wiki's
// repository; `history`, `wiki` and `metadata` together are refused, writing nothing.
import { execFile } from 'node:child_process';
import {
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
import { MANIFEST_FILE } from '../../core/github/export-format.js';
import type { LocalStack } from '../../scripts/local-stack.js';
import { COMMIT, runAction, s3Inputs } from '../action/helpers.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http-server.js';
import { makeWiki } from '../helpers/wiki-repository.js';
import { exportFixture, storeExportBackup, writeExport, type ExportFixture } from './metadata-fixture.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (
    await exec('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd })
  ).stdout.trim();
const TOKEN = sharedStackToken();
const TENANT = 'tenant-a';
const REPOSITORY = 'octo-org/autonomous-coding-agent';
const WIKI_TOKEN = 'ghs_wikitoken5678';
let stack: LocalStack;
let work: string;

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-sub-action-companions-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const workerOnly = () => ({ 'api-url': stack.url, 'api-token': TOKEN });
const restoreStep = (inputs: Record<string, string>) =>
  runAction({ script: 'dist/restore/index.js', inputs: { tenant: TENANT, ...inputs } });

/** A backup whose record names the export at `exportDir`; the export's key, size and SHA-256. */
async function storeBackupWithExport(
  exportDir: string,
  backupFile: string,
): Promise<{ key: string; size: number; sha256: string }> {
  const stored = await storeExportBackup(stack, TOKEN, { work, backupFile, repo: REPOSITORY, exportDir });
  return { key: stored.key!, size: stored.size!, sha256: stored.sha256! };
}

describe('metadata: true', () => {
  const backupFile = '20260201-000001.tar.zst';
  let fixture: ExportFixture;
  let recorded: Awaited<ReturnType<typeof storeBackupWithExport>>;

  beforeAll(async () => {
    fixture = exportFixture();
    const exportDir = join(work, 'export');
    writeExport(exportDir, fixture);
    recorded = await storeBackupWithExport(exportDir, backupFile);
  });

  test('renders the export at the target, through the Worker alone, with its outputs and summary', async () => {
    const target = join(mkdtempSync(join(work, 'metadata-')), 'restored');
    const run = await restoreStep({ ...workerOnly(), backup: backupFile, metadata: 'true', target });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Restored the metadata export of ${backupFile} (${fixture.manifest.repository}, complete)`,
    );
    expect(readdirSync(target).sort()).toEqual(['README.md', 'issues', 'json', 'pulls', 'releases']);
    expect(readdirSync(join(target, 'issues'))).toHaveLength(fixture.items.issues.length);
    expect(readFileSync(join(target, 'json', MANIFEST_FILE), 'utf8')).toBe(JSON.stringify(fixture.manifest));
    expect(run.outputs).toEqual({
      'backup-file': backupFile,
      commit: COMMIT,
      target,
      'metadata-key': recorded.key,
      'metadata-sha256': recorded.sha256,
      'metadata-size': String(recorded.size),
      'metadata-partial': 'false',
      'metadata-counts': expect.any(String),
    });
    expect(JSON.parse(run.outputs['metadata-counts']!)).toEqual(fixture.manifest.counts);
    expect(run.summary).toContain(`<code>${recorded.key}</code>`);
    expect(run.summary).toMatch(/Metadata export.*SHA-256 verified.*Items.*issues/s);
  });

  test('a partial export sets metadata-partial and warns', async () => {
    const partialFile = '20260201-000002.tar.zst';
    const partial = exportFixture(true);
    const exportDir = join(work, 'partial-export');
    writeExport(exportDir, partial);
    await storeBackupWithExport(exportDir, partialFile);
    const target = join(mkdtempSync(join(work, 'partial-')), 'restored');
    const run = await restoreStep({
      ...s3Inputs(stack),
      ...workerOnly(),
      backup: partialFile,
      metadata: 'true',
      target,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`::warning::the export is partial (${partial.manifest.partial_reason!})`);
    expect(run.outputs['metadata-partial']).toBe('true');
    // max-bytes bounds the export's extraction: too small, nothing is written.
    const bounded = join(mkdtempSync(join(work, 'bounded-')), 'restored');
    const refused = await restoreStep({
      ...workerOnly(),
      backup: partialFile,
      metadata: 'true',
      target: bounded,
      'max-bytes': '1K',
    });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/::error::.*max-bytes/);
    expect(existsSync(bounded)).toBe(false);
  });

  test('history, wiki and metadata together are refused, naming the inputs, writing nothing', async () => {
    const parent = mkdtempSync(join(work, 'both-'));
    for (const [first, second] of [
      ['history', 'metadata'],
      ['history', 'wiki'],
      ['wiki', 'metadata'],
    ] as const) {
      const run = await restoreStep({
        ...workerOnly(),
        backup: backupFile,
        target: join(parent, 'restored'),
        [first]: 'true',
        [second]: 'true',
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        `::error::Invalid ${second}: set with ${first}: true, but history, wiki and metadata restore different things into the target`,
      );
      expect(run.outputs).toEqual({});
      expect(readdirSync(parent)).toEqual([]);
    }
  });

  test('a backup without a wiki is refused with wiki: true, and max-bytes with it', async () => {
    const parent = mkdtempSync(join(work, 'no-wiki-'));
    const run = await restoreStep({
      ...workerOnly(),
      backup: backupFile,
      wiki: 'true',
      target: join(parent, 'wiki'),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`::error::Backup ${backupFile} has no wiki`);
    const bounded = await restoreStep({
      ...workerOnly(),
      backup: backupFile,
      wiki: 'true',
      target: join(parent, 'wiki'),
      'max-bytes': '1G',
    });
    expect(bounded.code).toBe(1);
    expect(bounded.stdout).toContain('::error::Invalid max-bytes: applies to the archive, not to wiki: true');
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('wiki: true', () => {
  let gitHttp: GitHttpServer;
  let backup: Awaited<ReturnType<typeof runAction>>;
  let wikiHead: string;
  let wikiRefs: number;
  let repoHead: string;

  beforeAll(async () => {
    // The wiki at {server}/octo-org/{repo}.wiki.git with two pages, and a repository to back up.
    const wiki = await makeWiki(work, 'octo-org/autonomous-coding-agent', [
      { file: 'Home.md', text: '# Home\n\nThe wiki.\n' },
      { file: 'Setup.md', text: '# Setup\n\nRun it.\n' },
    ]);
    const { server } = wiki;
    wikiHead = wiki.head;
    wikiRefs = wiki.refs;
    const repo = join(work, 'repo');
    mkdirSync(repo);
    await git(repo, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repo, 'README.md'), '# repo\n');
    await git(repo, 'add', '.');
    await git(repo, 'commit', '--quiet', '-m', 'one');
    repoHead = await git(repo, 'rev-parse', 'HEAD');
    gitHttp = await startGitHttpServer(server, WIKI_TOKEN);
    backup = await runAction({
      repository: REPOSITORY,
      inputs: {
        ...s3Inputs(stack),
        ...workerOnly(),
        tenant: TENANT,
        path: repo,
        'include-wiki': 'true',
        'github-token': WIKI_TOKEN,
      },
      env: { GITHUB_SERVER_URL: gitHttp.url, GITHUB_SHA: repoHead },
    });
    expect(backup.code).toBe(0);
    expect(backup.outputs['wiki-key']).toBeDefined();
  }, 180_000);
  afterAll(async () => {
    await gitHttp?.stop();
  });

  test("restores the wiki's repository, over S3 and through the Worker, with history's outputs", async () => {
    for (const credentials of [{ ...s3Inputs(stack), ...workerOnly() }, workerOnly()]) {
      const target = join(mkdtempSync(join(work, 'wiki-')), 'wiki');
      const run = await restoreStep({
        ...credentials,
        backup: backup.outputs['backup-file']!,
        wiki: 'true',
        target,
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        `Restored the wiki's history of ${backup.outputs['backup-file']!} into ${target}`,
      );
      expect(readFileSync(join(target, 'Home.md'), 'utf8')).toContain('The wiki.');
      expect(readFileSync(join(target, 'Setup.md'), 'utf8')).toContain('Run it.');
      expect(await git(target, 'log', '--format=%s')).toBe('Setup.md\nHome.md');
      expect(await git(target, 'status', '--porcelain')).toBe('');
      expect(run.outputs).toEqual({
        'backup-file': backup.outputs['backup-file'],
        commit: repoHead,
        target,
        'bundle-key': backup.outputs['wiki-key'],
        'bundle-sha256': backup.outputs['wiki-sha256'],
        'bundle-size': backup.outputs['wiki-size'],
        refs: String(wikiRefs),
        'head-commit': wikiHead,
        'head-branch': 'master',
      });
      expect(run.summary).toContain(`<code>${backup.outputs['wiki-key']!}</code>`);
      expect(run.summary).toMatch(/Wiki's history.*SHA-256 verified.*HEAD/s);
    }
  });
});
