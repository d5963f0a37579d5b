// CHANGELOG.md in Keep a Changelog's shape: `## [Unreleased]`, then `## [X.Y.Z] - YYYY-MM-DD`
// sections, and link references at the end (`[Unreleased]: BASE/compare/vX.Y.Z...HEAD`).
import { ReleaseError } from './semver.ts';

const UNRELEASED_HEADING = '## [Unreleased]';
const UNRELEASED_LINK = /^\[Unreleased\]: (\S+)\/compare\/(v\S+)\.\.\.HEAD$/m;

/** Index of the next `## ` heading or link reference after `from`, else the end. */
function sectionEnd(text: string, from: number): number {
  const rest = text.slice(from);
  const next = /^(## |\[[^\]]+\]: )/m.exec(rest);
  return next ? from + next.index : text.length;
}

/** The text of the `## [version]` section, without its heading; null when there is none. */
export function changelogEntry(text: string, version: string): string | null {
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const heading = new RegExp(`^## \\[${escaped}\\]( - .*)?$`, 'm').exec(text);
  if (!heading) return null;
  const start = heading.index + heading[0].length;
  return text.slice(start, sectionEnd(text, start)).trim();
}

/**
 * The changelog with the Unreleased section's entries moved under `## [version] - date`, an
 * empty Unreleased section above it, and the link references moved on to the new tag.
 */
export function releaseChangelog(text: string, version: string, date: string): string {
  const headingAt = text.indexOf(`${UNRELEASED_HEADING}\n`);
  if (headingAt < 0) throw new ReleaseError(`CHANGELOG.md has no "${UNRELEASED_HEADING}" heading`);
  const bodyStart = headingAt + UNRELEASED_HEADING.length + 1;
  const bodyEnd = sectionEnd(text, bodyStart);
  const entries = text.slice(bodyStart, bodyEnd).trim();
  if (!entries) {
    throw new ReleaseError(
      'CHANGELOG.md has nothing under "## [Unreleased]": say what this release changes before releasing it',
    );
  }
  if (changelogEntry(text, version) !== null) {
    throw new ReleaseError(`CHANGELOG.md already has a section for ${version}`);
  }
  const link = UNRELEASED_LINK.exec(text);
  if (!link) {
    throw new ReleaseError(
      'CHANGELOG.md has no link reference "[Unreleased]: https://github.com/OWNER/REPO/compare/vX.Y.Z...HEAD"',
    );
  }
  const [line, base, previousTag] = link as unknown as [string, string, string];
  const released =
    text.slice(0, bodyStart) + `\n## [${version}] - ${date}\n\n${entries}\n\n` + text.slice(bodyEnd);
  return released.replace(
    line,
    () =>
      `[Unreleased]: ${base}/compare/v${version}...HEAD\n[${version}]: ${base}/compare/${previousTag}...v${version}`,
  );
}
