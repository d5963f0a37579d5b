// include-git-history: the repository itself (every branch and tag, `git bundle create - --all`)
// streamed beside the archive as `{stamp}.bundle` (`.bundle.age` when encrypted), with no
// temporary file. A snapshot of the files loses deleted branches and force-pushed history; the
// bundle keeps them.
import { execFile, spawn } from 'node:child_process';
import { Transform, type Duplex, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { ValidationError } from '../../common/validate.js';
import { createHashCounter, type StreamDigest } from '../streams/hash.js';
import type { PendingUpload } from '../upload/uploader.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await exec('git', args, { cwd, maxBuffer: 1024 * 1024 })).stdout.trim();

export type ShallowHistory = 'fail' | 'record';

/** Checked before anything is uploaded: a repository, with refs, complete unless `record`. */
export async function checkHistory(
  path: string,
  shallowHistory: ShallowHistory,
): Promise<{ shallow: boolean; gitDir: string }> {
  const field = 'include-git-history';
  let gitDir: string;
  try {
    gitDir = await git(path, 'rev-parse', '--absolute-git-dir');
  } catch {
    throw new ValidationError(field, `needs a git repository at path (${path} is none)`);
  }
  if ((await git(path, 'for-each-ref', '--count=1')) === '') {
    throw new ValidationError(field, 'found no branch or tag to bundle in the repository');
  }
  const shallow = (await git(path, 'rev-parse', '--is-shallow-repository')) === 'true';
  if (shallow && shallowHistory === 'fail') {
    throw new ValidationError(
      field,
      'the checkout is shallow, so its history is incomplete: set `fetch-depth: 0` on actions/checkout (or shallow-history: record to store the shallow history, marked as such)',
    );
  }
  return { shallow, gitDir };
}

/** Streams the bundle through the hash counter into the pending upload. */
export async function bundleInto(
  path: string,
  pending: PendingUpload,
  partSize: number,
  /** Encrypts the bundle on its way (encryption-recipients): the digest is of what is stored. */
  encrypt?: Duplex,
): Promise<StreamDigest> {
  const child = spawn('git', ['bundle', 'create', '-', '--all'], {
    cwd: path,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const failed = (code: number | null) =>
    new Error(`git bundle create failed (exit ${code}): ${stderr.trim()}`);
  // git writes the bundle's header before packing, and a failed pack-objects (a missing or
  // corrupt object) just ends stdout early: the body must end only once git exited 0, else the
  // upload would complete with a truncated bundle that abort() no longer removes.
  const untilExit = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk),
    flush: (callback) => {
      exited.then((code) => callback(code === 0 ? null : failed(code)), callback);
    },
  });
  const hash = createHashCounter();
  child.stdout.on('error', (error) => untilExit.destroy(error));
  let stored: Readable = child.stdout.pipe(untilExit);
  if (encrypt) {
    untilExit.on('error', (error) => encrypt.destroy(error));
    stored = stored.pipe(encrypt);
  }
  stored.on('error', (error) => hash.transform.destroy(error));
  try {
    await pending.send(stored.pipe(hash.transform), partSize);
  } catch (error) {
    child.kill();
    encrypt?.destroy();
    throw error;
  }
  const code = await exited;
  if (code !== 0) throw failed(code);
  return hash.digest();
}
