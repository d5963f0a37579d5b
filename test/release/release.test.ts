// `npm run release` on a temporary clone of this repository's HEAD, with the real build: what
// it refuses before building (changing nothing), then a patch release: the commit, the tags,
// CHANGELOG.md, the versions, a dist/ equal to a fresh build, and that dist/index.js backing up
// a tree as the runner runs it. (A stale dist/ and a new major: release-script.test.ts, on a
// small repository whose build takes no time.) The script never pushes: nothing leaves the clone.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { changelogEntry } from '../../scripts/release/changelog.js';
import { snapshotTree } from '../helpers/tree.js';
import {
  SEED_EXCLUDES,
  downloadAndExtract,
  excludedBy,
  makeFixtureTree,
  runAction,
  s3Inputs,
} from '../action/helpers.js';
import {
  expectRefused,
  packageVersion,
  setUnreleased,
  testRepository,
  utcToday,
  type TestRepository,
} from './helpers.js';

const exec = promisify(execFile);
const BUILD_MS = 150_000;

let work: string;
let repo: TestRepository;
// The clone's version and the patch release the test makes of it (1.0.0 -> 1.0.1, tag v1).
let current: string;
let patch: string;
let majorTag: string;

/** Builds the clone's source into a fresh directory (scripts/build.ts --out), returning its dist/. */
async function freshBuild(): Promise<string> {
  const out = mkdtempSync(join(work, 'build-'));
  await exec(process.execPath, [join(repo.dir, 'scripts/build.ts'), '--out', out], { cwd: repo.dir });
  return join(out, 'dist');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'r2-backup-release-'));
  const dir = join(work, 'repo');
  // The repository the test runs in (CI's is itself a clean clone), at its HEAD, on a branch
  // called main whatever HEAD was.
  await exec('git', ['clone', '--quiet', ROOT, dir]);
  repo = await testRepository(dir);
  await repo.git('checkout', '--quiet', '-B', 'main');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  current = await packageVersion(repo, 'HEAD');
  const [x, y, z] = current.split('.').map(Number) as [number, number, number];
  patch = `${x}.${y}.${z + 1}`;
  majorTag = `v${x}`;
  // dist/ as the clone builds it (the build follows the node_modules link, so its module ids
  // differ from the repository's own build): the fresh dist/ a release starts from.
  const dist = await freshBuild();
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  await exec('cp', ['-a', dist, join(dir, 'dist')]);
  if (await repo.git('status', '--porcelain')) await repo.commitAll('dist: rebuilt in the test clone');
}, BUILD_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('refuses a bad or not greater version, a dirty tree and an empty Unreleased section, changing nothing', async () => {
  for (const bad of [`v${patch}`, '1.0', `${patch}-rc.1`, 'latest']) {
    await expectRefused(repo, [bad], `The version "${bad}" is not a version: give MAJOR.MINOR.PATCH`);
  }
  await expectRefused(repo, [], 'usage: npm run release -- MAJOR.MINOR.PATCH');
  for (const old of [current, '0.0.0']) {
    await expectRefused(
      repo,
      [old],
      `${old} is not greater than the current version ${current} (package.json)`,
    );
  }

  writeFileSync(join(repo.dir, 'stray.txt'), 'not committed\n');
  await expectRefused(
    repo,
    [patch],
    'the working tree has changes; commit or remove them first:\n?? stray.txt\n',
  );
  rmSync(join(repo.dir, 'stray.txt'));
  appendFileSync(join(repo.dir, 'README.md'), 'edited\n');
  await expectRefused(
    repo,
    [patch],
    'the working tree has changes; commit or remove them first:\n M README.md\n',
  );
  await repo.git('checkout', '--', 'README.md');

  await setUnreleased(repo, '');
  await expectRefused(repo, [patch], 'CHANGELOG.md has nothing under "## [Unreleased]"');
});

let releaseCommit: string;

test(
  'a patch release commits, tags it, moves the major tag and ships a dist/ equal to a fresh build',
  async () => {
    await setUnreleased(repo, '### Fixed\n\n- The release test fixed something.');
    const before = utcToday();
    const run = await repo.release([patch], true);
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    expect(run.stdout).toContain(`git push origin main v${patch} && git push --force origin ${majorTag}`);

    releaseCommit = await repo.git('rev-parse', 'HEAD');
    expect(await repo.git('log', '-1', '--format=%s')).toBe(`Release v${patch}`);
    expect(await repo.git('status', '--porcelain')).toBe('');
    for (const tag of [`v${patch}`, majorTag]) {
      expect(await repo.git('cat-file', '-t', tag)).toBe('tag'); // annotated
      expect(await repo.git('rev-parse', `${tag}^{commit}`)).toBe(releaseCommit);
    }
    const changed = (await repo.git('diff', '--name-only', 'HEAD~1', 'HEAD')).split('\n');
    expect(changed.filter((f) => !f.startsWith('dist/')).sort()).toEqual([
      'CHANGELOG.md',
      'package-lock.json',
      'package.json',
    ]);

    expect(await packageVersion(repo, majorTag)).toBe(patch);
    const lock = JSON.parse((await repo.show(majorTag, 'package-lock.json')).toString()) as {
      version: string;
      packages: Record<string, { version: string }>;
    };
    expect([lock.version, lock.packages['']!.version]).toEqual([patch, patch]);

    const changelog = (await repo.show(majorTag, 'CHANGELOG.md')).toString();
    const heading = changelog.split('\n').find((line) => line.startsWith(`## [${patch}] - `));
    expect([`## [${patch}] - ${before}`, `## [${patch}] - ${utcToday()}`]).toContain(heading);
    expect(changelogEntry(changelog, patch)).toBe('### Fixed\n\n- The release test fixed something.');
    expect(changelogEntry(changelog, 'Unreleased')).toBe('');
    const base = /^\[Unreleased\]: (\S+)\/compare\//m.exec(changelog)?.[1];
    const links = changelog.split('\n').filter((line) => /^\[(Unreleased|\d+\.\d+\.\d+)\]: /.test(line));
    expect(links.slice(0, 2)).toEqual([
      `[Unreleased]: ${base}/compare/v${patch}...HEAD`,
      `[${patch}]: ${base}/compare/v${current}...v${patch}`,
    ]);
    // The annotated tag carries the entry.
    expect(await repo.git('tag', '-l', '--format=%(contents)', `v${patch}`)).toContain(
      '- The release test fixed something.',
    );

    // What the major tag ships is what the build makes of its source, byte for byte.
    const dist = await freshBuild();
    const shipped = (await repo.git('ls-tree', '-r', '--name-only', majorTag, 'dist/')).split('\n');
    expect(shipped).toContain('dist/index.js');
    for (const file of shipped) {
      const same = (await repo.show(majorTag, file)).equals(readFileSync(join(dist, relative('dist', file))));
      expect({ file, same }).toEqual({ file, same: true });
    }
  },
  3 * BUILD_MS,
);

describe('the dist/index.js of the major tag, run as the runner runs it', () => {
  const TOKEN = randomBytes(24).toString('hex');
  let stack: LocalStack;
  let tree: string;
  let shipped: string;

  beforeAll(async () => {
    expect(releaseCommit).toBeDefined();
    stack = await startLocalStack({ env: 'test', vars: { CLOUDCONNECT: TOKEN } });
    tree = makeFixtureTree(256 * 1024);
    // dist/ exactly as the tag has it, outside the clone's working tree.
    shipped = mkdtempSync(join(work, 'tagged-'));
    await exec('sh', ['-c', `git archive ${majorTag} dist | tar -x -C '${shipped}'`], { cwd: repo.dir });
  });
  afterAll(async () => {
    await stack?.stop();
    if (tree) rmSync(tree, { recursive: true, force: true });
  });

  test('backs up a tree and records the released version', async () => {
    const run = await runAction({
      script: relative(ROOT, join(shipped, 'dist/index.js')),
      inputs: {
        ...s3Inputs(stack),
        tenant: 'release-test',
        bucket: 'my-bucket',
        path: tree,
        'api-url': stack.url,
        'api-token': TOKEN,
        'fail-on-api-error': 'true',
      },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const key = run.outputs['backup-key']!;
    expect(key).toMatch(/^backups\/release-test\/\d{8}-\d{6}(-\d+)?\.tar\.gz$/);
    const { dir } = await downloadAndExtract(stack, 'my-bucket', key);
    expect(snapshotTree(dir)).toEqual(snapshotTree(tree, excludedBy(SEED_EXCLUDES)));

    const response = await fetch(
      `${stack.url}/api/github/backup/release-test/${run.outputs['backup-file']}?bucket=my-bucket`,
      { headers: { authorization: `Bearer ${TOKEN}` } },
    );
    expect(response.status).toBe(200);
    const { metadata } = (await response.json()) as { metadata: { action_version: string } };
    expect(metadata.action_version).toBe(patch);
  });
});
