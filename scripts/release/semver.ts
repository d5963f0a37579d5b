// Release versions: MAJOR.MINOR.PATCH only (no pre-releases: a pre-release must not move the
// major tag users pin).
export class ReleaseError extends Error {}

export interface Version {
  major: number;
  minor: number;
  patch: number;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** The version `text` names, or a ReleaseError saying what a version looks like. */
export function parseVersion(text: string, what: string): Version {
  const match = SEMVER.exec(text);
  if (!match) {
    throw new ReleaseError(
      `${what} "${text}" is not a version: give MAJOR.MINOR.PATCH without a "v", e.g. npm run release -- 1.2.0`,
    );
  }
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/** Negative when a comes before b, zero when equal, positive after. */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export const formatVersion = (v: Version): string => `${v.major}.${v.minor}.${v.patch}`;
