// Reads the action's inputs and checks each one, so that a wrong value stops the run before
// anything is archived or uploaded, with an error that names the input and the rule.
import { statSync } from 'node:fs';
import * as core from '@actions/core';
import { DEFAULT_EXCLUDES } from '../core/archive/stream.js';
import type { ShallowHistory } from '../core/git/history.js';
import {
  checkUrlSetting,
  resolveCredentials,
  type CredentialSettings,
  type Credentials,
  type S3Connection,
  type TokenAuth,
} from '../core/r2/credentials.js';
import {
  ValidationError,
  checkBucket,
  checkCompression,
  checkTenant,
  type Compression,
} from '../common/validate.js';
import { BackupInputs, RestoreInputs } from './constants.js';
import { parseRecipients, secretKeysIn } from '../core/crypto/recipients.js';

// The account id is no credential, but the seed keeps it as a secret: masked as well.
export const SECRET_INPUTS = [
  BackupInputs.R2AccountId,
  BackupInputs.R2AccessKeyId,
  BackupInputs.R2SecretAccessKey,
  BackupInputs.ApiToken,
  BackupInputs.GithubToken,
] as const;

/** Where the archive goes: straight to R2 over S3, or through the Worker's upload route. */
export type Destination = ({ kind: 's3' } & S3Connection) | { kind: 'worker' };

/** How the action proves itself to the Worker: `api-token`, or the runner's OIDC ID token. */
export type ApiAuth = TokenAuth | { kind: 'oidc'; audience: string };

export interface ActionInputs {
  tenant?: string;
  bucket?: string;
  /** tenant -> bucket, from `bucket-map`. */
  bucketMap: Map<string, string>;
  destination: Destination;
  api?: { url: string; auth: ApiAuth };
  path: string;
  excludes: string[];
  /** The default excludes apply (no `exclude` input): they keep what git tracks. An explicit
   *  `exclude` applies exactly as given. */
  keepTracked: boolean;
  compression: Compression;
  failOnApiError: boolean;
  /** Part size in bytes when set by `part-size-mib`; chosen from the tree's size otherwise. */
  partSize?: number;
  /** Mirror the tree's files to repos/{tenant}/{branch}/ after the archive (`sync-files`). */
  syncFiles: boolean;
  /** Keep mirrored files that are gone from the tree (`sync-keep-deleted`). */
  syncKeepDeleted: boolean;
  /** Bundle the git history beside the archive (`include-git-history`). */
  includeGitHistory: boolean;
  /** What a shallow checkout does with include-git-history: stop, or store it marked shallow. */
  shallowHistory: ShallowHistory;
  /** The Worker's prune fields (`keep_last`, ...) from the `keep-*` inputs; absent when none is set. */
  retention?: Record<string, number>;
  /** age recipients to encrypt the archive and the bundle for (`encryption-recipients`). */
  encryptionRecipients?: string[];
  /** What of the repository beyond its files goes beside the archive, and the token that reads it. */
  repositoryExtras: RepositoryExtras;
}

export interface RepositoryExtras {
  /** Issues, pull requests, releases... through GitHub's API (`include-metadata`). */
  metadata: boolean;
  /** The wiki's git history (`include-wiki`). */
  wiki: boolean;
  /** The LFS objects of every ref (`include-lfs`). */
  lfs: boolean;
  /** `github-token`: reads the API and clones the wiki. */
  githubToken?: string;
  /** The longest wait for GitHub's rate limit to reset before the export is stored partial. */
  maxWaitSeconds: number;
}

const MIB = 1024 * 1024;
const S3_KEYS_HINT = `${BackupInputs.R2AccessKeyId} and ${BackupInputs.R2SecretAccessKey} (with ${BackupInputs.R2AccountId} or ${BackupInputs.R2Endpoint})`;
const optional = (name: string): string | undefined => core.getInput(name) || undefined;

export function parseBoolean(name: string): boolean {
  const value = core.getInput(name).toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new ValidationError(name, 'must be "true" or "false"');
}

/** An http(s) URL input without credentials, without its trailing slashes: the resolver's rule
 *  (core/r2/credentials.ts), which parses api-url and r2-endpoint. */
export const parseUrl = (name: string, value: string): string => checkUrlSetting(value, name);

/** The credential inputs, named alike in both actions. */
type CredentialInputNames = Pick<
  typeof BackupInputs & typeof RestoreInputs,
  'ApiUrl' | 'ApiToken' | 'R2AccountId' | 'R2Endpoint' | 'R2AccessKeyId' | 'R2SecretAccessKey'
>;

function credentialInputs(names: CredentialInputNames): CredentialSettings & { auth?: never } {
  const input = (name: string) => ({ value: core.getInput(name), name });
  return {
    apiUrl: input(names.ApiUrl),
    apiToken: input(names.ApiToken),
    accountId: input(names.R2AccountId),
    endpoint: input(names.R2Endpoint),
    accessKeyId: input(names.R2AccessKeyId),
    secretAccessKey: input(names.R2SecretAccessKey),
  };
}

/** The restore sub-action's R2 keys and Worker token (it has no OIDC), by the same rules as the
 *  backup action's and the CLI's (core/r2/credentials.ts); its URL inputs are checked first. */
export function readRestoreCredentials(): Credentials<TokenAuth> {
  return resolveCredentials(credentialInputs(RestoreInputs));
}

/** `tenant: bucket`, one a line; blank lines and `#` comments are skipped. */
export function parseBucketMap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const field = `${BackupInputs.BucketMap} (line ${index + 1})`;
    const match = /^([^:\s]+)\s*:\s*(\S+)$/.exec(line);
    if (!match) throw new ValidationError(field, 'each line must be "tenant: bucket"');
    map.set(checkTenant(match[1], field), checkBucket(match[2], field));
  });
  return map;
}

const splitPatterns = (text: string): string[] =>
  text
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter(Boolean);

/** One pattern a line (commas also separate); empty means the default excludes. */
export function parseExcludes(text: string): string[] {
  const patterns = splitPatterns(text);
  if (patterns.length === 0) return [...DEFAULT_EXCLUDES];
  const rule = 'must be at most 100 patterns, each 1-256 characters without control characters';
  // eslint-disable-next-line no-control-regex
  if (patterns.length > 100 || patterns.some((p) => p.length > 256 || /[\x00-\x1f\x7f]/.test(p))) {
    throw new ValidationError(BackupInputs.Exclude, rule);
  }
  return patterns;
}

/** The backup action's destination and Worker API: its URL inputs are checked first, then the
 *  rules shared with the restore sub-action and the CLI (core/r2/credentials.ts). */
function readBackupCredentials(): { destination: Destination; api: ActionInputs['api'] } {
  const { s3, worker } = resolveCredentials({
    ...credentialInputs(BackupInputs),
    auth: { value: core.getInput(BackupInputs.Auth), name: BackupInputs.Auth },
  });
  const destination: Destination = s3 ? { kind: 's3', ...s3 } : { kind: 'worker' };
  if (!worker) return { destination, api: undefined };
  const auth: ApiAuth =
    worker.auth.kind === 'oidc'
      ? { kind: 'oidc', audience: optional(BackupInputs.OidcAudience) ?? worker.url }
      : worker.auth;
  return { destination, api: { url: worker.url, auth } };
}

function parsePartSize(): number | undefined {
  const value = optional(BackupInputs.PartSizeMib);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 5 || Number(value) > 5120) {
    throw new ValidationError(
      BackupInputs.PartSizeMib,
      'must be a whole number of MiB from 5 to 5120 (R2 part limits)',
    );
  }
  return Number(value) * MIB;
}

function parseShallowHistory(): ShallowHistory {
  const value = core.getInput(BackupInputs.ShallowHistory) || 'fail';
  if (value !== 'fail' && value !== 'record')
    throw new ValidationError(BackupInputs.ShallowHistory, 'must be "fail" or "record"');
  return value;
}

const RETENTION_INPUTS = [
  BackupInputs.KeepLast,
  BackupInputs.KeepDays,
  BackupInputs.KeepDaily,
  BackupInputs.KeepWeekly,
  BackupInputs.KeepMonthly,
];

/** The keep-* inputs as the Worker's prune route names them; the Worker applies them. */
function parseRetention(api: ActionInputs['api']): Record<string, number> | undefined {
  const policy: Record<string, number> = {};
  for (const name of RETENTION_INPUTS) {
    const value = optional(name);
    if (value === undefined) continue;
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
      throw new ValidationError(name, 'must be a whole number from 1 to 100000');
    }
    if (!api) throw new ValidationError(name, `needs ${BackupInputs.ApiUrl}: the Worker applies retention`);
    policy[name.replace('-', '_')] = Number(value);
  }
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/** `encryption-recipients`: public keys only. A secret key pasted there by mistake is masked
 *  before the refusal, so no later line can print it. */
function parseEncryptionRecipients(syncFiles: boolean): string[] | undefined {
  const text = core.getInput(BackupInputs.EncryptionRecipients);
  for (const secret of secretKeysIn(text)) core.setSecret(secret);
  if (!text.trim()) return undefined;
  const recipients = parseRecipients(text, BackupInputs.EncryptionRecipients);
  if (syncFiles) {
    throw new ValidationError(
      BackupInputs.SyncFiles,
      `cannot be used with ${BackupInputs.EncryptionRecipients}: the file mirror stores every file in plain text, which would defeat the archive's encryption`,
    );
  }
  return recipients;
}

/** Five minutes: a runner waiting longer for GitHub's hourly reset costs more than the next run. */
const DEFAULT_MAX_WAIT_SECONDS = 300;

function parseRepositoryExtras(encrypted: boolean): RepositoryExtras {
  const extras: RepositoryExtras = {
    metadata: parseBoolean(BackupInputs.IncludeMetadata),
    wiki: parseBoolean(BackupInputs.IncludeWiki),
    lfs: parseBoolean(BackupInputs.IncludeLfs),
    githubToken: optional(BackupInputs.GithubToken),
    maxWaitSeconds: DEFAULT_MAX_WAIT_SECONDS,
  };
  const wait = optional(BackupInputs.MetadataMaxWaitSeconds);
  if (wait !== undefined) {
    if (!/^\d+$/.test(wait) || Number(wait) > 3600) {
      throw new ValidationError(
        BackupInputs.MetadataMaxWaitSeconds,
        'must be a whole number of seconds from 0 to 3600',
      );
    }
    extras.maxWaitSeconds = Number(wait);
  }
  if (extras.metadata && !extras.githubToken) {
    throw new ValidationError(
      BackupInputs.GithubToken,
      `is needed by ${BackupInputs.IncludeMetadata} (its default is the job's GITHUB_TOKEN; give the job \`permissions: contents: read, issues: read, pull-requests: read\`)`,
    );
  }
  // LFS objects are stored once per tenant and shared by its backups, by the SHA-256 of their
  // plain content: encrypted, they could be neither shared nor checked by their id.
  if (extras.lfs && encrypted) {
    throw new ValidationError(
      BackupInputs.IncludeLfs,
      `cannot be used with ${BackupInputs.EncryptionRecipients} yet: LFS objects are stored unencrypted, shared by id`,
    );
  }
  return extras;
}

export function readInputs(): ActionInputs {
  // Masked first, so that no later message can print them.
  for (const name of SECRET_INPUTS) {
    const value = core.getInput(name);
    if (value) core.setSecret(value);
  }
  const encryptionRecipients = parseEncryptionRecipients(parseBoolean(BackupInputs.SyncFiles));
  const tenant = optional(BackupInputs.Tenant);
  const bucket = optional(BackupInputs.Bucket);
  const { destination, api } = readBackupCredentials();
  if (destination.kind === 'worker' && !api) {
    throw new ValidationError(
      BackupInputs.R2AccessKeyId,
      `no upload destination: give ${S3_KEYS_HINT}, or ${BackupInputs.ApiUrl} and ${BackupInputs.ApiToken} (or ${BackupInputs.Auth}: oidc) to upload through the Worker`,
    );
  }

  const path = core.getInput(BackupInputs.Path) || process.env.GITHUB_WORKSPACE || process.cwd();
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory)
    throw new ValidationError(BackupInputs.Path, `must be an existing directory (got "${path}")`);

  const syncFiles = parseBoolean(BackupInputs.SyncFiles);
  // The mirror writes files to R2's S3 API itself: the Worker's upload route takes archives only.
  if (syncFiles && destination.kind !== 's3') {
    throw new ValidationError(BackupInputs.SyncFiles, `needs S3 keys: give ${S3_KEYS_HINT}`);
  }

  return {
    tenant: tenant === undefined ? undefined : checkTenant(tenant, BackupInputs.Tenant),
    bucket: bucket === undefined ? undefined : checkBucket(bucket, BackupInputs.Bucket),
    bucketMap: parseBucketMap(core.getInput(BackupInputs.BucketMap)),
    destination,
    api,
    path,
    excludes: parseExcludes(core.getInput(BackupInputs.Exclude)),
    keepTracked: splitPatterns(core.getInput(BackupInputs.Exclude)).length === 0,
    compression: checkCompression(
      core.getInput(BackupInputs.Compression) || 'gzip',
      BackupInputs.Compression,
    ),
    failOnApiError: parseBoolean(BackupInputs.FailOnApiError),
    partSize: parsePartSize(),
    syncFiles,
    syncKeepDeleted: parseBoolean(BackupInputs.SyncKeepDeleted),
    retention: parseRetention(api),
    includeGitHistory: parseBoolean(BackupInputs.IncludeGitHistory),
    shallowHistory: parseShallowHistory(),
    encryptionRecipients,
    repositoryExtras: parseRepositoryExtras(encryptionRecipients !== undefined),
  };
}
