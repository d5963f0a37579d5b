// Cuts a release: `npm run release -- 1.2.0`. Refuses unless the version is MAJOR.MINOR.PATCH
// and greater than package.json's, the working tree is clean and dist/ is what the build makes
// of the source. Then bumps package.json and package-lock.json, moves CHANGELOG.md's Unreleased
// entries under the new version, rebuilds dist/ (the bundle carries the version), commits
// "Release v1.2.0", tags v1.2.0 (annotated) and moves the major tag v1 to it. A new major
// (2.0.0) first keeps the old line on a branch releases/v1 made at the tag v1. Nothing is
// pushed: the push command is printed.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './local-stack.ts';
import { changelogEntry, releaseChangelog } from './release/changelog.ts';
import { staleDistFiles } from './release/dist-fresh.ts';
import { ReleaseError, compareVersions, parseVersion } from './release/semver.ts';

const git = (...args: string[]): string =>
  execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trimEnd();
const refExists = (ref: string): boolean =>
  spawnSync('git', ['rev-parse', '--quiet', '--verify', ref], { cwd: ROOT }).status === 0;

const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;
// npm writes both files as two-space JSON with a final newline; so does this.
const writeJson = (file: string, value: unknown): void =>
  writeFileSync(join(ROOT, file), `${JSON.stringify(value, null, 2)}\n`);

function release(args: string[]): void {
  if (args.length !== 1) throw new ReleaseError('usage: npm run release -- MAJOR.MINOR.PATCH (e.g. 1.2.0)');
  const version = args[0]!;
  const next = parseVersion(version, 'The version');

  const changes = git('status', '--porcelain');
  if (changes)
    throw new ReleaseError(`the working tree has changes; commit or remove them first:\n${changes}`);
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
  if (branch === 'HEAD') throw new ReleaseError('HEAD is detached: check out the branch to release from');

  const pkg = readJson('package.json');
  const current = parseVersion(String(pkg.version), "package.json's version");
  if (compareVersions(next, current) <= 0) {
    throw new ReleaseError(
      `${version} is not greater than the current version ${String(pkg.version)} (package.json)`,
    );
  }
  const tag = `v${version}`;
  if (refExists(`refs/tags/${tag}`)) throw new ReleaseError(`the tag ${tag} already exists`);

  const date = new Date().toISOString().slice(0, 10);
  const changelog = releaseChangelog(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'), version, date);

  const majorTag = `v${next.major}`;
  const previousMajorTag = `v${current.major}`;
  const previousLine = `releases/v${current.major}`;
  const newMajor = next.major > current.major;
  if (newMajor && !refExists(`refs/tags/${previousMajorTag}`)) {
    throw new ReleaseError(
      `${version} starts a new major: the ${current.major}.x line is kept on a branch ${previousLine} made at the tag ${previousMajorTag}, which does not exist`,
    );
  }
  if (newMajor && refExists(`refs/heads/${previousLine}`)) {
    throw new ReleaseError(`${version} starts a new major, but the branch ${previousLine} already exists`);
  }

  console.log('Building dist/ afresh to compare it with the committed one...');
  const stale = staleDistFiles(ROOT);
  if (stale.length > 0) {
    throw new ReleaseError(
      `dist/ is not what the build makes of the source (${stale.map((f) => `dist/${f}`).join(', ')}): run npm run build and commit dist/ first`,
    );
  }

  // Every check passed: from here on the release is made.
  writeJson('package.json', { ...pkg, version });
  const lock = readJson('package-lock.json');
  const packages = lock.packages as Record<string, Record<string, unknown>>;
  writeJson('package-lock.json', {
    ...lock,
    version,
    packages: { ...packages, '': { ...packages['']!, version } },
  });
  writeFileSync(join(ROOT, 'CHANGELOG.md'), changelog);
  console.log(`Rebuilding dist/ for ${version}...`);
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.ts')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new ReleaseError('the build failed; the version bump is left uncommitted');

  git('add', '--all', '--', 'package.json', 'package-lock.json', 'CHANGELOG.md', 'dist');
  git('commit', '--quiet', '-m', `Release ${tag}`);
  // verbatim: the entry's "### Added" lines are not comments to strip.
  const notes = changelogEntry(changelog, version)!;
  git('tag', '--annotate', '--cleanup=verbatim', '-m', `${tag}\n\n${notes}\n`, tag);
  if (newMajor) git('branch', previousLine, `${previousMajorTag}^{commit}`);
  git('tag', '--force', '--annotate', '-m', `${majorTag}: ${tag}`, majorTag, `${tag}^{commit}`);

  const commit = git('rev-parse', '--short', 'HEAD');
  const refs = [branch, tag, ...(newMajor ? [previousLine] : [])];
  console.log(
    [
      `Released ${tag}: commit ${commit} on ${branch}, tag ${tag}, major tag ${majorTag} moved to it` +
        (newMajor ? `, the ${current.major}.x line on ${previousLine}` : '') +
        '.',
      'Nothing was pushed. To publish (the tag starts the release workflow):',
      `  git push origin ${refs.join(' ')} && git push --force origin ${majorTag}`,
    ].join('\n'),
  );
}

try {
  release(process.argv.slice(2));
} catch (error) {
  console.error(`release: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
