// include-wiki: the wiki's own git repository (`{owner}/{repo}.wiki.git`), mirrored into a
// private temporary directory and streamed as a bundle beside the archive (`{stamp}.wiki.bundle`)
// by the same bundleInto as the repository's history.
//
// Authentication as actions/checkout does it: an `AUTHORIZATION: basic ...` extra header scoped to
// the server, given to git through GIT_CONFIG_* environment variables, never in the URL or the
// command line (both show in process listings and in git's messages).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { checkRepo, ValidationError } from '../../common/validate.js';
import type { StreamDigest } from '../streams/hash.js';
import type { PendingUpload } from '../upload/uploader.js';
import { bundleInto } from './history.js';

const exec = promisify(execFile);

/**
 * `{server}/{owner}/{repo}.wiki.git` from GITHUB_SERVER_URL and GITHUB_REPOSITORY. The server is
 * https (http, or file:// for a local stand-in in tests) without credentials, path or query.
 */
export function wikiRemote(serverUrl: string, repository: string): string {
  const field = 'GITHUB_SERVER_URL';
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new ValidationError(field, 'must be the URL of the GitHub server (https://...)');
  }
  if (!['https:', 'http:', 'file:'].includes(url.protocol)) {
    throw new ValidationError(field, 'must be an https (or http, or file) URL');
  }
  if (url.username || url.password || /^[^/?#]*\/\/[^/?#]*@/.test(serverUrl)) {
    throw new ValidationError(field, 'must not contain credentials ("user:password@")');
  }
  if (url.search || url.hash) throw new ValidationError(field, 'must have no query or fragment');
  // Only file:// has a path (the local stand-in's directory); a server's is its root.
  if (url.protocol !== 'file:' && url.pathname !== '/') {
    throw new ValidationError(field, 'must be the server alone, without a path');
  }
  const [owner, repo] = checkRepo(repository, 'GITHUB_REPOSITORY').split('/') as [string, string];
  // `..` would climb out of the server's path (GitHub names are never `.` or `..`).
  if ([owner, repo].some((part) => part === '.' || part === '..')) {
    throw new ValidationError('GITHUB_REPOSITORY', 'must not have a part "." or ".."');
  }
  return `${url.href.replace(/\/+$/, '')}/${owner}/${repo}.wiki.git`;
}

export interface BundleWikiOptions {
  /** wikiRemote(...). */
  remote: string;
  /** The workflow's token (GITHUB_TOKEN or a PAT); absent for a public wiki or a local remote. */
  token?: string;
  pending: PendingUpload;
  partSize: number;
  /** Encrypts the bundle on its way (encryption-recipients). */
  encrypt?: Duplex;
  log: (message: string) => void;
}

/** git's answers for a wiki that has no repository (GitHub creates it with the first page). */
const NO_REPOSITORY =
  /Repository not found|repository '[^']*' not found|does not appear to be a git repository|HTTP 404/i;

/**
 * The wiki's history into `pending`, or undefined when the repository has no wiki (no page yet:
 * no wiki repository, or one without a ref); nothing is sent then, and the caller aborts the claim.
 */
export async function bundleWiki(options: BundleWikiOptions): Promise<StreamDigest | undefined> {
  const { remote, token } = options;
  const scrub = (text: string): string => scrubToken(text, token);
  const dir = await mkdtemp(join(tmpdir(), 'r2-backup-wiki-'));
  try {
    const mirror = join(dir, 'wiki.git');
    options.log(`Cloning the wiki ${remote}`);
    try {
      await exec('git', ['clone', '--mirror', '--quiet', '--', remote, mirror], {
        env: gitEnv(remote, token),
        maxBuffer: 1024 * 1024,
      });
    } catch (error) {
      const stderr = scrub(String((error as { stderr?: string }).stderr ?? '')).trim();
      if (NO_REPOSITORY.test(stderr)) return undefined;
      throw new Error(`git clone of the wiki ${remote} failed: ${stderr || scrub((error as Error).message)}`);
    }
    const { stdout } = await exec('git', ['for-each-ref', '--count=1'], { cwd: mirror });
    if (stdout.trim() === '') return undefined;
    try {
      return await bundleInto(mirror, options.pending, options.partSize, options.encrypt);
    } catch (error) {
      if (error instanceof Error) error.message = scrub(error.message);
      throw error;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** git's environment: no prompt, and the token as a header scoped to the wiki's server. */
function gitEnv(remote: string, token: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
  if (!token) return env;
  const { origin } = new URL(remote);
  return {
    ...env,
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${origin}/.extraheader`,
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basicCredentials(token)}`,
  };
}

const basicCredentials = (token: string): string => Buffer.from(`x-access-token:${token}`).toString('base64');

/** git may echo its configuration or a URL: neither the token nor its header form leaves. */
export function scrubToken(text: string, token: string | undefined): string {
  if (!token) return text;
  return text.split(token).join('***').split(basicCredentials(token)).join('***');
}
