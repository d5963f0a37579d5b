// Whether dist/ is what the build makes of the source: a build into a temporary directory
// (scripts/build.ts --out DIR, as the dist test does), compared with dist/ file by file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ReleaseError } from './semver.ts';

const filesUnder = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    : [];

/** The files of dist/ (relative to it) that are missing, extra or different from a fresh build. */
export function staleDistFiles(root: string): string[] {
  const out = mkdtempSync(join(tmpdir(), 'r2-backup-release-build-'));
  try {
    const build = spawnSync(process.execPath, [join(root, 'scripts/build.ts'), '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new ReleaseError(`the build failed:\n${build.stdout}${build.stderr}`);
    const fresh = new Set(filesUnder(join(out, 'dist')));
    const committed = new Set(filesUnder(join(root, 'dist')));
    return [...new Set([...fresh, ...committed])]
      .sort()
      .filter(
        (file) =>
          !fresh.has(file) ||
          !committed.has(file) ||
          !readFileSync(join(out, 'dist', file)).equals(readFileSync(join(root, 'dist', file))),
      );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
