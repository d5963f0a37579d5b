// The release script's stale-dist/ refusals and a new major, on a small repository: this
// project's scripts/release.ts and its modules as they are, with a stand-in scripts/build.ts
// that takes no time (dist/index.js from src.txt and the version, as the real bundle carries
// the version). release.test.ts runs a patch release with the real build on a clone of this
// repository.
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../scripts/local-stack.js';
import { changelogEntry } from '../../scripts/release/changelog.js';
import {
  expectRefused,
  packageVersion,
  setUnreleased,
  testRepository,
  type TestRepository,
} from './helpers.js';

const exec = promisify(execFile);

const STAND_IN_BUILD = `// Stand-in for the real build, with its interface: --out DIR writes DIR/dist, else ./dist.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './local-stack.ts';

const flag = process.argv.indexOf('--out');
const out = flag >= 0 ? resolve(process.argv[flag + 1]) : ROOT;
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
mkdirSync(join(out, 'dist'), { recursive: true });
writeFileSync(join(out, 'dist/index.js'), \`// version \${version}\\n\${readFileSync(join(ROOT, 'src.txt'), 'utf8')}\`);
`;

const BASE = 'https://github.com/acme/small';
const CHANGELOG = [
  '# Changelog',
  '',
  '## [Unreleased]',
  '',
  '## [1.0.0] - 2026-01-01',
  '',
  '### Added',
  '',
  '- The first release.',
  '',
  `[Unreleased]: ${BASE}/compare/v1.0.0...HEAD`,
  `[1.0.0]: ${BASE}/releases/tag/v1.0.0`,
  '',
].join('\n');

let work: string;
let repo: TestRepository;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'r2-backup-release-script-'));
  const dir = join(work, 'small');
  mkdirSync(join(dir, 'scripts/release'), { recursive: true });
  for (const file of ['local-stack.ts', 'release.ts', 'release']) {
    cpSync(join(ROOT, 'scripts', file), join(dir, 'scripts', file), { recursive: true });
  }
  writeFileSync(join(dir, 'scripts/build.ts'), STAND_IN_BUILD);
  const manifest = { name: 'small', version: '1.0.0', private: true };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const lock = {
    name: 'small',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: { '': manifest },
  };
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  writeFileSync(join(dir, 'CHANGELOG.md'), CHANGELOG);
  writeFileSync(join(dir, 'src.txt'), 'console.log("small");\n');
  await exec('git', ['init', '--quiet', '--initial-branch', 'main', dir]);
  repo = await testRepository(dir);
  await exec(process.execPath, [join(dir, 'scripts/build.ts')], { cwd: dir });
  await repo.commitAll('The small repository, its dist/ built');
  await repo.git('tag', '--annotate', '-m', 'v1.0.0', 'v1.0.0');
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a dist/ that is not what the build makes is refused, naming each file, and nothing changes', async () => {
  await setUnreleased(repo, '- A change.');
  const fresh = await repo.git('rev-parse', 'HEAD');
  const staleBy = async (change: () => Promise<void>, files: string): Promise<void> => {
    await change();
    await repo.commitAll('A stale dist/');
    await expectRefused(
      repo,
      ['1.0.1'],
      `dist/ is not what the build makes of the source (${files}): run npm run build and commit dist/ first`,
    );
    await repo.git('reset', '--quiet', '--hard', fresh);
  };
  // The source changed and dist/ was not rebuilt.
  await staleBy(
    async () => appendFileSync(join(repo.dir, 'src.txt'), 'console.log("more");\n'),
    'dist/index.js',
  );
  // dist/ edited by hand, a file the build no longer makes, a file it makes gone.
  await staleBy(async () => appendFileSync(join(repo.dir, 'dist/index.js'), '// by hand\n'), 'dist/index.js');
  await staleBy(async () => writeFileSync(join(repo.dir, 'dist/old.js'), ''), 'dist/old.js');
  await staleBy(() => repo.git('rm', '--quiet', 'dist/index.js').then(() => undefined), 'dist/index.js');
});

test('a new major without the tag of the current major is refused', async () => {
  await expectRefused(
    repo,
    ['2.0.0'],
    '2.0.0 starts a new major: the 1.x line is kept on a branch releases/v1 made at the tag v1, which does not exist',
  );
});

test('a new major tags vN.0.0 and vN, keeps the old line on releases/v(N-1), and ships the rebuilt dist/', async () => {
  // A patch release first makes v1.
  const patch = await repo.release(['1.0.1']);
  expect({ code: patch.code, stderr: patch.stderr }).toMatchObject({ code: 0 });
  const lastOne = await repo.git('rev-parse', 'v1^{commit}');
  expect(lastOne).toBe(await repo.git('rev-parse', 'HEAD'));
  expect((await repo.show('v1', 'dist/index.js')).toString()).toMatch(/^\/\/ version 1\.0\.1\n/);

  await setUnreleased(repo, '### Changed\n\n- Something that breaks workflows.');
  const run = await repo.release(['2.0.0']);
  expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
  expect(run.stdout).toContain('git push origin main v2.0.0 releases/v1 && git push --force origin v2');

  const head = await repo.git('rev-parse', 'HEAD');
  expect(await repo.git('log', '-1', '--format=%s')).toBe('Release v2.0.0');
  for (const tag of ['v2.0.0', 'v2']) {
    expect(await repo.git('cat-file', '-t', tag)).toBe('tag');
    expect(await repo.git('rev-parse', `${tag}^{commit}`)).toBe(head);
  }
  // v1 and the 1.x line stay on the last 1.x release.
  expect(await repo.git('rev-parse', 'v1^{commit}')).toBe(lastOne);
  expect(await repo.git('rev-parse', 'refs/heads/releases/v1')).toBe(lastOne);
  expect(await packageVersion(repo, 'v2')).toBe('2.0.0');
  expect((await repo.show('v2', 'dist/index.js')).toString()).toMatch(/^\/\/ version 2\.0\.0\n/);
  const changelog = (await repo.show('v2', 'CHANGELOG.md')).toString();
  expect(changelogEntry(changelog, '2.0.0')).toBe('### Changed\n\n- Something that breaks workflows.');
  expect(changelog).toContain(
    `[Unreleased]: ${BASE}/compare/v2.0.0...HEAD\n[2.0.0]: ${BASE}/compare/v1.0.1...v2.0.0\n[1.0.1]: ${BASE}/compare/v1.0.0...v1.0.1\n`,
  );

  // From the 1.x line, 2.0.0 is greater than its version but already released; and a second
  // new major from there would find its releases/v1 taken.
  await repo.git('checkout', '--quiet', 'releases/v1');
  await expectRefused(repo, ['2.0.0'], 'the tag v2.0.0 already exists');
  await setUnreleased(repo, '- Another line.');
  await expectRefused(repo, ['3.0.0'], '3.0.0 starts a new major, but the branch releases/v1 already exists');
  await repo.git('checkout', '--quiet', 'main');
});
