// The storage layout of design.md, in one place. Callers pass validated parts only.
import {
  COMPANION_EXTENSIONS,
  ValidationError,
  checkBucket,
  type CompanionKind,
  ARCHIVE_EXTENSIONS,
  ENCRYPTED_EXTENSION,
  checkBackupFile,
  type Compression,
} from './validate.js';

/** UTC `YYYYMMDD-HHMMSS`, so keys sort by time. */
export function stampOf(date: Date): string {
  const iso = date.toISOString(); // 2025-01-01T12:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** `{stamp}.tar.gz`, or `{stamp}-{n}.tar.gz` for the n-th run in the same second (n >= 2);
 *  `.age` after it when encrypted. */
export function backupFileName(stamp: string, compression: Compression, n = 1, encrypted = false): string {
  return `${stamp}${n > 1 ? `-${n}` : ''}${ARCHIVE_EXTENSIONS[compression]}${encrypted ? ENCRYPTED_EXTENSION : ''}`;
}

/** A companion beside an archive, named like it: `{stamp}.tar.gz` -> `{stamp}.bundle`, and an
 *  encrypted archive's encrypted companion: `{stamp}.tar.gz.age` -> `{stamp}.bundle.age`. */
export const companionFileName = (backupFile: string, kind: CompanionKind): string =>
  backupFile.replace(/\.tar(?:\.gz|\.zst)?(\.age)?$/, `${COMPANION_EXTENSIONS[kind]}$1`);

/** The git history beside an archive (include-git-history). */
export const bundleFileName = (backupFile: string): string => companionFileName(backupFile, 'bundle');
/** The repository's issues, pull requests, releases... (include-metadata): `{stamp}.meta.tar.zst`. */
export const metaFileName = (backupFile: string): string => companionFileName(backupFile, 'meta');
/** The wiki's git history (include-wiki): `{stamp}.wiki.bundle`. */
export const wikiFileName = (backupFile: string): string => companionFileName(backupFile, 'wiki');
/** The list of the LFS objects of every ref (include-lfs): `{stamp}.lfs.json`. */
export const lfsListFileName = (backupFile: string): string => companionFileName(backupFile, 'lfs');

/** What every default bucket name ends with. */
export const DEFAULT_BUCKET_SUFFIX = '-github-backup';

/**
 * A tenant's default bucket, `{tenant}-github-backup`, as an R2 bucket name can spell it: the
 * tenant lower-cased, each `.` and `_` turned into `-`, hyphens at either end of it dropped
 * (`MyRepo.js` -> `myrepo-js-github-backup`, `_config` -> `config-github-backup`). Tenants that
 * differ only in these may share a bucket; each still has its own prefix `backups/{tenant}/`.
 * The one place this name is made: the action, its restore sub-action, the CLI and the Worker's
 * default grant all call it. The result is not checked here: a tenant of more than 49
 * characters gives a name longer than R2 allows, which `checkBucket` refuses where it is used
 * (the Worker then grants no default bucket to that tenant; it needs one named explicitly).
 */
export function defaultBucket(tenant: string): string {
  const name = tenant
    .toLowerCase()
    .replace(/[._]/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${name}${DEFAULT_BUCKET_SUFFIX}`;
}

/** Where a default bucket comes from, as messages name it (README Troubleshooting has an entry). */
export const DEFAULT_BUCKET_SOURCE = 'the default {tenant}-github-backup';

/**
 * A tenant's default bucket, refused when R2 could not have a bucket of that name (a tenant of
 * more than 49 characters, or of only ".", "_" and "-"): the message names the tenant, the name
 * made from it, and `fix` (how the caller's user sets another bucket or tenant).
 */
export function checkedDefaultBucket(tenant: string, field: string, fix: string): string {
  const bucket = defaultBucket(tenant);
  try {
    return checkBucket(bucket, field);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(
      field,
      `${error.rule}; tenant "${tenant}" makes "${bucket}" (${DEFAULT_BUCKET_SOURCE}, ${bucket.length} characters): ${fix}`,
    );
  }
}

/**
 * How a repository names its tenant when none is given: by its name (`acme/web-app` ->
 * `web-app`), the action's default and OIDC_POLICY's `"{repo}"` owners; or by owner and name
 * (`acme--web-app`), OIDC_POLICY's `"{owner}--{repo}"` owners, whose repositories give the
 * action that tenant as its `tenant` input.
 */
export type TenantRule = '{repo}' | '{owner}--{repo}';
export const TENANT_RULES: readonly TenantRule[] = ['{repo}', '{owner}--{repo}'];

/**
 * A repository's tenant by a rule, spelled as the repository is. The one place the action's
 * default tenant and the Worker's implicit OIDC tenants are made. Not checked here: a name such
 * as `.github` gives no valid tenant, which callers refuse with `checkTenant`.
 */
export function repositoryTenant(
  repository: { owner?: string; name: string },
  rule: TenantRule = '{repo}',
): string {
  if (rule === '{repo}') return repository.name;
  if (repository.owner === undefined) throw new Error('the "{owner}--{repo}" rule needs the owner');
  return `${repository.owner}--${repository.name}`;
}

export const tenantPrefix = (tenant: string): string => `backups/${tenant}/`;
export const archiveKey = (tenant: string, backupFile: string): string => `backups/${tenant}/${backupFile}`;
export const metadataKey = (tenant: string, backupFile: string): string =>
  `backups/${tenant}/metadata/${backupFile}.json`;
export const notificationKey = (tenant: string, name: string): string =>
  `backups/${tenant}/notifications/${name}.json`;
/** LFS objects, stored once per tenant and shared by its backups: `lfs/{tenant}/{oid}`. */
export const lfsPrefix = (tenant: string): string => `lfs/${tenant}/`;
export const lfsObjectKey = (tenant: string, oid: string): string => `lfs/${tenant}/${oid}`;
export const mirrorPrefix = (tenant: string, branch: string): string => `repos/${tenant}/${branch}/`;

/** The UTC time a `YYYYMMDD-HHMMSS[-n]` stamp names (the run number is ignored). */
export function timeOfStamp(stamp: string): Date {
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(stamp) ?? [];
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

/** The mirror's manifest: beside the branches' prefixes, never inside one (no branch name has a
 *  component starting with "."), so `repos/{tenant}/{branch}/` holds exactly the tree. */
export const mirrorManifestKey = (tenant: string, branch: string): string =>
  `repos/${tenant}/.mirror-manifests/${branch}.json`;

/** A key that sorts records like time: stamp, then the run within that second, then the name;
 *  null for a name that is no backup of this tenant. */
export function positionOf(tenant: string, backupFile: string): string | null {
  let stamp: string;
  try {
    stamp = checkBackupFile(backupFile, tenant).stamp;
  } catch {
    return null; // not a record this Worker wrote
  }
  const run = stamp.length > 15 ? Number(stamp.slice(16)) : 1;
  return `${stamp.slice(0, 15)}.${String(run).padStart(5, '0')}.${tenant}/${backupFile}`;
}
