// Validation rules shared by the action, the CLI and the Worker. Every object key is built
// only from values that passed these checks, so a rule here is a security boundary.

// Fields declared, not parameter properties: Node runs this file directly (type stripping).
export class ValidationError extends Error {
  readonly field: string;
  readonly rule: string;
  constructor(field: string, rule: string) {
    super(`Invalid ${field}: ${rule}`);
    this.name = 'ValidationError';
    this.field = field;
    this.rule = rule;
  }
}

export const COMPRESSIONS = ['gzip', 'zstd', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const ARCHIVE_EXTENSIONS: Record<Compression, string> = {
  gzip: '.tar.gz',
  zstd: '.tar.zst',
  none: '.tar',
};

const TENANT_RE = /^[A-Za-z0-9._-]{1,100}$/;
// R2: 3-63 characters, lowercase letters, digits and hyphens, starting and ending with a
// letter or digit.
const BUCKET_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const COMMIT_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
/** What an age-encrypted object's name ends with (encryption-recipients). */
export const ENCRYPTED_EXTENSION = '.age';
// {stamp}[-n].tar.gz|.tar.zst|.tar, then .age when encrypted, optionally prefixed with the
// tenant (the seed's form).
const STAMP = '\\d{8}-\\d{6}(?:-\\d{1,4})?';
const BACKUP_FILE_RE = new RegExp(`^(?:(.+)-)?(${STAMP})(\\.tar\\.gz|\\.tar\\.zst|\\.tar)(\\.age)?$`);
/**
 * The objects stored beside an archive, named like it with another extension (`.age` after it
 * when encrypted): the git history (include-git-history), the repository's metadata export
 * (include-metadata), the wiki's history (include-wiki) and the list of LFS objects (include-lfs).
 */
export const COMPANION_EXTENSIONS = {
  bundle: '.bundle',
  meta: '.meta.tar.zst',
  wiki: '.wiki.bundle',
  lfs: '.lfs.json',
} as const;
export type CompanionKind = keyof typeof COMPANION_EXTENSIONS;
const COMPANION_KINDS = Object.keys(COMPANION_EXTENSIONS) as CompanionKind[];
const COMPANION_FILE_RE = new RegExp(
  `^(?:(.+)-)?(${STAMP})(${Object.values(COMPANION_EXTENSIONS)
    .map((extension) => extension.replaceAll('.', '\\.'))
    .join('|')})(\\.age)?$`,
);

/** Which companion an object's name or key is (`{stamp}.wiki.bundle` is the wiki's, not a git
 *  bundle), if any. */
export function companionKindOf(nameOrKey: string): CompanionKind | undefined {
  const name = nameOrKey.slice(nameOrKey.lastIndexOf('/') + 1);
  const extension = COMPANION_FILE_RE.exec(name)?.[3];
  return COMPANION_KINDS.find((kind) => COMPANION_EXTENSIONS[kind] === extension);
}

/** Whether an object's name or key is a git bundle's (`.bundle`, or `.bundle.age` encrypted). */
export const isBundleFile = (name: string): boolean => companionKindOf(name) === 'bundle';

export function checkTenant(value: unknown, field = 'tenant'): string {
  if (typeof value !== 'string' || !TENANT_RE.test(value)) {
    throw new ValidationError(field, 'must be 1-100 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
  }
  if (value.startsWith('.')) throw new ValidationError(field, 'must not start with "."');
  if (value.includes('..')) throw new ValidationError(field, 'must not contain ".."');
  return value;
}

export function checkBucket(value: unknown, field = 'bucket'): string {
  if (typeof value !== 'string' || !BUCKET_RE.test(value)) {
    throw new ValidationError(
      field,
      'must be an R2 bucket name: 3-63 lowercase letters, digits or "-", starting and ending with a letter or digit',
    );
  }
  return value;
}

export function checkCommit(value: unknown, field = 'commit'): string {
  if (typeof value !== 'string' || !COMMIT_RE.test(value)) {
    throw new ValidationError(field, 'must be a full commit id: 40 or 64 hexadecimal characters');
  }
  return value.toLowerCase();
}

/** A branch name by the rules of `git check-ref-format --branch`. */
export function checkBranch(value: unknown, field = 'branch'): string {
  const fail = (rule: string): never => {
    throw new ValidationError(field, rule);
  };
  if (typeof value !== 'string' || value.length === 0) return fail('must be a non-empty string');
  if (value.length > 255) fail('must be at most 255 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(value)) {
    fail('must not contain spaces, control characters or any of ~ ^ : ? * [ \\');
  }
  if (value.startsWith('-')) fail('must not start with "-"');
  if (value === '@') fail('must not be "@"');
  if (value.includes('..')) fail('must not contain ".."');
  if (value.includes('@{')) fail('must not contain "@{"');
  if (value.startsWith('/') || value.endsWith('/') || value.includes('//')) {
    fail('must not start or end with "/" or contain "//"');
  }
  if (value.endsWith('.')) fail('must not end with "."');
  for (const part of value.split('/')) {
    if (part.startsWith('.')) fail('must not have a path component starting with "."');
    if (part.endsWith('.lock')) fail('must not have a path component ending with ".lock"');
  }
  return value;
}

/** `owner/name` as GitHub spells repositories. */
export function checkRepo(value: unknown, field = 'repo'): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/.test(value)) {
    throw new ValidationError(field, 'must be "owner/name"');
  }
  return value;
}

export interface BackupFileName {
  stamp: string;
  /** Everything after the stamp: `.tar.gz`, or `.tar.gz.age` when encrypted. */
  extension: string;
  compression: Compression;
  /** The name ends with `.age`: the object is an age file (encryption-recipients). */
  encrypted: boolean;
}

/**
 * An archive name in the design's naming: `{stamp}.tar.gz` (or `.tar.zst`, `.tar`), with an
 * optional `-n` after the stamp for runs in the same second, `.age` after it when encrypted,
 * and optionally the tenant in front as in the seed's example (`my-repo-20250101-120000.tar.gz`).
 */
export function checkBackupFile(value: unknown, tenant: string, field = 'backup_file'): BackupFileName {
  const rule = `must be "{stamp}.tar.gz", "{stamp}.tar.zst" or "{stamp}.tar" (then ".age" when encrypted) with stamp YYYYMMDD-HHMMSS, optionally prefixed "${tenant}-"`;
  if (typeof value !== 'string') throw new ValidationError(field, rule);
  const match = BACKUP_FILE_RE.exec(value);
  if (!match) throw new ValidationError(field, rule);
  const [, prefix, stamp, tarExtension, age] = match;
  if (prefix !== undefined && prefix !== tenant) throw new ValidationError(field, rule);
  const compression = (Object.keys(ARCHIVE_EXTENSIONS) as Compression[]).find(
    (c) => ARCHIVE_EXTENSIONS[c] === tarExtension,
  )!;
  return { stamp: stamp!, extension: tarExtension! + (age ?? ''), compression, encrypted: age !== undefined };
}

/** A companion's name, `{stamp}{extension}` (then `.age`), named like the archive it belongs to. */
export function checkCompanionFile(
  value: unknown,
  tenant: string,
  field = 'companion_file',
): { kind: CompanionKind; encrypted: boolean } {
  const names = Object.values(COMPANION_EXTENSIONS)
    .map((extension) => `"{stamp}${extension}"`)
    .join(', ');
  const rule = `must be one of ${names} (then ".age" when encrypted) with stamp YYYYMMDD-HHMMSS, optionally prefixed "${tenant}-"`;
  if (typeof value !== 'string') throw new ValidationError(field, rule);
  const match = COMPANION_FILE_RE.exec(value);
  if (!match || (match[1] !== undefined && match[1] !== tenant)) throw new ValidationError(field, rule);
  return { kind: companionKindOf(value)!, encrypted: match[4] !== undefined };
}

/** An LFS object id: the SHA-256 of its content, 64 lowercase hexadecimal characters. */
export const LFS_OID_RE = /^[0-9a-f]{64}$/;

export function checkCompression(value: unknown, field = 'compression'): Compression {
  if (typeof value !== 'string' || !(COMPRESSIONS as readonly string[]).includes(value)) {
    throw new ValidationError(field, `must be one of ${COMPRESSIONS.join(', ')}`);
  }
  return value as Compression;
}

export function checkSha256(value: unknown, field = 'sha256'): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
    throw new ValidationError(field, 'must be 64 lowercase hexadecimal characters');
  }
  return value;
}

const BYTE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A positive byte count: digits, optionally with a binary unit (`500M`, `20G`, `1T`). */
export function checkByteCount(value: unknown, field: string): number {
  const match = typeof value === 'string' ? /^(\d{1,15})([KMGT]?)i?B?$/i.exec(value.trim()) : null;
  const bytes = match ? Number(match[1]) * BYTE_UNITS[match[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new ValidationError(
      field,
      'must be a positive number of bytes, optionally with K, M, G or T (for example 20G)',
    );
  }
  return bytes;
}

/** Where a URL may use plain http: anywhere, or only on this machine (a local test server). */
export type PlainHttp = 'anywhere' | 'loopback';

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * An http(s) URL without credentials: the one URL check of the action and the restore
 * sub-action (`api-url`, `r2-endpoint`), the CLI (R2_BACKUP_API_URL, R2_ENDPOINT and their
 * flags), the records' `run_url` and the Worker's OIDC_JWKS_URL (`plainHttp: 'loopback'`: keys
 * fetched in clear could be swapped in transit). `https://user:pass@host` would put the password
 * in logs, error messages and records, so it is refused, never used. The error names the field
 * and never quotes the value.
 */
export function checkHttpUrl(
  value: unknown,
  field: string,
  { maxLength = 2048, plainHttp = 'anywhere' }: { maxLength?: number; plainHttp?: PlainHttp } = {},
): string {
  const scheme = plainHttp === 'anywhere' ? 'an http(s) URL' : 'an https URL (http only on loopback)';
  const rule = `must be ${scheme} of at most ${maxLength} characters`;
  if (typeof value !== 'string' || value.length > maxLength) throw new ValidationError(field, rule);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(field, rule);
  }
  const http =
    url.protocol === 'http:' && (plainHttp === 'anywhere' || LOOPBACK_HOSTS.includes(url.hostname));
  if (url.protocol !== 'https:' && !http) throw new ValidationError(field, rule);
  // The parser drops an empty `@` and tabs or newlines inside; the raw text is checked as well.
  if (url.username || url.password || /^[^/?#]*\/\/[^/?#]*@/.test(value)) {
    throw new ValidationError(
      field,
      'must not contain credentials ("user:password@"): give the token or keys as their own secret settings',
    );
  }
  return value;
}
