// Reads the action's inputs and checks each one, so that a wrong value stops the run before
// anything is archived or uploaded, with an error that names the input and the rule.
import { statSync } from 'node:fs';
import * as core from '@actions/core';
import { DEFAULT_EXCLUDES } from '../core/archive/stream.js';
import type { ShallowHistory } from '../core/git/history.js';
import {
  ValidationError,
  checkBucket,
  checkCompression,
  checkHttpUrl,
  checkTenant,
  type Compression,
} from '../common/validate.js';

// The account id is no credential, but the seed keeps it as a secret: masked as well.
export const SECRET_INPUTS = [
  'r2-account-id',
  'r2-access-key-id',
  'r2-secret-access-key',
  'api-token',
] as const;

/** Where the archive goes: straight to R2 over S3, or through the Worker's upload route. */
export type Destination =
  { kind: 's3'; endpoint: string; accessKeyId: string; secretAccessKey: string } | { kind: 'worker' };

/** How the action proves itself to the Worker: `api-token`, or the runner's OIDC ID token. */
export type ApiAuth = { kind: 'token'; token: string } | { kind: 'oidc'; audience: string };

export interface ActionInputs {
  tenant?: string;
  bucket?: string;
  /** tenant -> bucket, from `bucket-map`. */
  bucketMap: Map<string, string>;
  destination: Destination;
  api?: { url: string; auth: ApiAuth };
  path: string;
  excludes: string[];
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
}

const MIB = 1024 * 1024;
const optional = (name: string): string | undefined => core.getInput(name) || undefined;

export function parseBoolean(name: string): boolean {
  const value = core.getInput(name).toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new ValidationError(name, 'must be "true" or "false"');
}

/** An http(s) URL input without credentials (common/validate.ts checkHttpUrl), without its
 *  trailing slashes. */
export function parseUrl(name: string, value: string): string {
  return checkHttpUrl(value, name).replace(/\/+$/, '');
}

/** The inputs that hold URLs, in the backup action and the restore sub-action. */
export const URL_INPUTS = ['api-url', 'r2-endpoint'] as const;

/** Checks every URL input before any other input, so that one with credentials in it stops the
 *  run with an error naming it, before anything is logged or any other rule is reported. */
export function checkUrlInputs(): void {
  for (const name of URL_INPUTS) {
    const value = optional(name);
    if (value !== undefined) parseUrl(name, value);
  }
}

/** `tenant: bucket`, one a line; blank lines and `#` comments are skipped. */
export function parseBucketMap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const field = `bucket-map (line ${index + 1})`;
    const match = /^([^:\s]+)\s*:\s*(\S+)$/.exec(line);
    if (!match) throw new ValidationError(field, 'each line must be "tenant: bucket"');
    map.set(checkTenant(match[1], field), checkBucket(match[2], field));
  });
  return map;
}

/** One pattern a line (commas also separate); empty means the seed's six. */
export function parseExcludes(text: string): string[] {
  const patterns = text
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (patterns.length === 0) return [...DEFAULT_EXCLUDES];
  const rule = 'must be at most 100 patterns, each 1-256 characters without control characters';
  // eslint-disable-next-line no-control-regex
  if (patterns.length > 100 || patterns.some((p) => p.length > 256 || /[\x00-\x1f\x7f]/.test(p))) {
    throw new ValidationError('exclude', rule);
  }
  return patterns;
}

function parseApi(): ActionInputs['api'] {
  const apiUrl = optional('api-url');
  const apiToken = optional('api-token');
  const auth = core.getInput('auth') || 'token';
  if (auth === 'oidc') {
    // Two credentials would leave it unclear which one the Worker's records name.
    if (apiToken)
      throw new ValidationError('api-token', 'must be empty with auth: oidc (the ID token replaces it)');
    if (!apiUrl) throw new ValidationError('api-url', 'is required with auth: oidc');
    const url = parseUrl('api-url', apiUrl);
    return { url, auth: { kind: 'oidc', audience: optional('oidc-audience') ?? url } };
  }
  if (auth !== 'token') throw new ValidationError('auth', 'must be "token" or "oidc"');
  if (apiUrl && !apiToken)
    throw new ValidationError('api-token', 'is required with api-url (or use auth: oidc)');
  if (apiToken && !apiUrl) throw new ValidationError('api-url', 'is required with api-token');
  return apiUrl && apiToken
    ? { url: parseUrl('api-url', apiUrl), auth: { kind: 'token', token: apiToken } }
    : undefined;
}

export function parseDestination(): Destination {
  const accessKeyId = optional('r2-access-key-id');
  const secretAccessKey = optional('r2-secret-access-key');
  const accountId = optional('r2-account-id');
  const endpoint = optional('r2-endpoint');
  if (!accessKeyId && !secretAccessKey) return { kind: 'worker' };
  if (!accessKeyId) throw new ValidationError('r2-access-key-id', 'is required with r2-secret-access-key');
  if (!secretAccessKey)
    throw new ValidationError('r2-secret-access-key', 'is required with r2-access-key-id');
  if (accountId && endpoint)
    throw new ValidationError('r2-endpoint', 'give either r2-account-id or r2-endpoint, not both');
  if (endpoint)
    return { kind: 's3', endpoint: parseUrl('r2-endpoint', endpoint), accessKeyId, secretAccessKey };
  if (!accountId) {
    throw new ValidationError('r2-account-id', 'is required with S3 keys (or give r2-endpoint)');
  }
  if (!/^[0-9a-f]{32}$/i.test(accountId)) {
    throw new ValidationError('r2-account-id', 'must be a Cloudflare account id: 32 hexadecimal characters');
  }
  return {
    kind: 's3',
    endpoint: `https://${accountId.toLowerCase()}.r2.cloudflarestorage.com`,
    accessKeyId,
    secretAccessKey,
  };
}

function parsePartSize(): number | undefined {
  const value = optional('part-size-mib');
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 5 || Number(value) > 5120) {
    throw new ValidationError(
      'part-size-mib',
      'must be a whole number of MiB from 5 to 5120 (R2 part limits)',
    );
  }
  return Number(value) * MIB;
}

function parseShallowHistory(): ShallowHistory {
  const value = core.getInput('shallow-history') || 'fail';
  if (value !== 'fail' && value !== 'record')
    throw new ValidationError('shallow-history', 'must be "fail" or "record"');
  return value;
}

const RETENTION_INPUTS = ['keep-last', 'keep-days', 'keep-daily', 'keep-weekly', 'keep-monthly'];

/** The keep-* inputs as the Worker's prune route names them; the Worker applies them. */
function parseRetention(api: ActionInputs['api']): Record<string, number> | undefined {
  const policy: Record<string, number> = {};
  for (const name of RETENTION_INPUTS) {
    const value = optional(name);
    if (value === undefined) continue;
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
      throw new ValidationError(name, 'must be a whole number from 1 to 100000');
    }
    if (!api) throw new ValidationError(name, 'needs api-url: the Worker applies retention');
    policy[name.replace('-', '_')] = Number(value);
  }
  return Object.keys(policy).length > 0 ? policy : undefined;
}

export function readInputs(): ActionInputs {
  // Masked first, so that no later message can print them.
  for (const name of SECRET_INPUTS) {
    const value = core.getInput(name);
    if (value) core.setSecret(value);
  }
  checkUrlInputs();
  const tenant = optional('tenant');
  const bucket = optional('bucket');
  const api = parseApi();

  const destination = parseDestination();
  if (destination.kind === 'worker' && !api) {
    throw new ValidationError(
      'r2-access-key-id',
      'no upload destination: give r2-access-key-id and r2-secret-access-key (with r2-account-id or r2-endpoint), or api-url and api-token (or auth: oidc) to upload through the Worker',
    );
  }

  const path = core.getInput('path') || process.env.GITHUB_WORKSPACE || process.cwd();
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new ValidationError('path', `must be an existing directory (got "${path}")`);

  const syncFiles = parseBoolean('sync-files');
  // The mirror writes files to R2's S3 API itself: the Worker's upload route takes archives only.
  if (syncFiles && destination.kind !== 's3') {
    throw new ValidationError(
      'sync-files',
      'needs S3 keys: give r2-access-key-id and r2-secret-access-key (with r2-account-id or r2-endpoint)',
    );
  }

  return {
    tenant: tenant === undefined ? undefined : checkTenant(tenant),
    bucket: bucket === undefined ? undefined : checkBucket(bucket),
    bucketMap: parseBucketMap(core.getInput('bucket-map')),
    destination,
    api,
    path,
    excludes: parseExcludes(core.getInput('exclude')),
    compression: checkCompression(core.getInput('compression') || 'gzip'),
    failOnApiError: parseBoolean('fail-on-api-error'),
    partSize: parsePartSize(),
    syncFiles,
    syncKeepDeleted: parseBoolean('sync-keep-deleted'),
    retention: parseRetention(api),
    includeGitHistory: parseBoolean('include-git-history'),
    shallowHistory: parseShallowHistory(),
  };
}
