// include-lfs: the Git LFS objects of every ref. `git lfs fetch --all` brings them into the
// checkout's LFS store (with the checkout's own remote and credentials); each is checked and
// stored once per tenant under `lfs/{tenant}/{oid}`, shared by every backup that lists it. The
// backup's own list of oids and sizes goes beside the archive (`{stamp}.lfs.json`).
//
// A planted object: whoever holds S3 keys to a shared bucket can put other bytes under
// `lfs/{tenant}/{oid}` before the tenant's first backup of that object, so that the backup finds
// the key taken and skips it. Over S3 (`existingSize`: one listing, core/r2/object-size.ts) an object
// of another size, or a killed run's empty claim, is replaced by the checked bytes (the key is
// their hash, so any writer writes the same; S3ContentUploader). Bytes of the same size are only
// caught by reading them: the restore (core/restore/lfs.ts) hashes every object against its oid
// and installs nothing on a mismatch, and so does `verify --deep`. Through the Worker's routes
// alone there is no listing of them, and the Worker never replaces an object: those checks are the restore's.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { lfsObjectKey } from '../../common/naming.js';
import { LFS_OID_RE, ValidationError } from '../../common/validate.js';
import { forEachLimited } from '../pool.js';
import { choosePartSize, type ArchiveUploader } from '../upload/uploader.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await exec('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();

export interface LfsObject {
  oid: string;
  size: number;
  /** The object's file in the checkout's LFS store. */
  path: string;
}

export const LFS_LIST_FORMAT = 'r2-backup-lfs-list-v1';
const HEX2_RE = /^[0-9a-f]{2}$/;

/** Whether git-lfs answers (`git lfs version`). */
export async function gitLfsInstalled(): Promise<boolean> {
  try {
    await exec('git', ['lfs', 'version']);
    return true;
  } catch {
    return false;
  }
}

/** Every LFS object of every ref, fetched into the checkout at `path`, checked, sorted by oid. */
export async function collectLfsObjects(path: string, log: (message: string) => void): Promise<LfsObject[]> {
  if (!(await gitLfsInstalled())) {
    throw new ValidationError(
      'include-lfs',
      'needs git-lfs, which is not installed on this runner: install it before this step (`sudo apt-get install git-lfs`, or https://git-lfs.com); GitHub-hosted runners have it',
    );
  }
  log('Fetching the LFS objects of every ref (git lfs fetch --all)');
  try {
    await git(path, 'lfs', 'fetch', '--all');
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`git lfs fetch --all failed in ${path}: ${stderr || (error as Error).message}`);
  }
  const store = await lfsStore(path);
  const objects: LfsObject[] = [];
  for (const first of await entries(store)) {
    const firstDir = join(store, first);
    if (!HEX2_RE.test(first) || !(await lstat(firstDir)).isDirectory()) throw misplaced(firstDir);
    for (const second of await entries(firstDir)) {
      const secondDir = join(firstDir, second);
      if (!HEX2_RE.test(second) || !(await lstat(secondDir)).isDirectory()) throw misplaced(secondDir);
      for (const oid of await entries(secondDir)) {
        const file = join(secondDir, oid);
        if (!LFS_OID_RE.test(oid) || !oid.startsWith(first + second)) throw misplaced(file);
        // lstat: a symbolic link in the store could point anywhere on the runner.
        const stats = await lstat(file);
        if (!stats.isFile()) throw misplaced(file);
        objects.push({ oid, size: stats.size, path: file });
      }
    }
  }
  await forEachLimited(objects, 4, async (object) => {
    const sha256 = await hashFile(object.path);
    if (sha256 !== object.oid) {
      throw new Error(
        `The local LFS object ${object.path} is corrupt: its SHA-256 is ${sha256}, not its name. Remove it and run \`git lfs fetch --all\` again`,
      );
    }
  });
  objects.sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  log(`${objects.length} LFS objects (${objects.reduce((sum, o) => sum + o.size, 0)} bytes)`);
  return objects;
}

/** The LFS store's directory: git lfs's LocalMediaDir (lfs.storage may move it), else .git/lfs/objects. */
async function lfsStore(path: string): Promise<string> {
  const env = await git(path, 'lfs', 'env').catch(() => '');
  const media = /^LocalMediaDir=(.+)$/m.exec(env)?.[1]?.trim();
  return resolve(path, media || (await git(path, 'rev-parse', '--git-path', 'lfs/objects')));
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

const misplaced = (path: string): Error =>
  new Error(
    `The LFS store holds ${path}, which is not an object where git-lfs puts one (xx/yy/{sha256}, a regular file): remove it`,
  );

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export interface StoreLfsOptions {
  objects: readonly LfsObject[];
  tenant: string;
  uploader: ArchiveUploader;
  log: (message: string) => void;
  /** Uploads at once (default 4). */
  concurrency?: number;
  /**
   * The stored size of a key, when the upload path can tell (a listing over S3: storedSizesOverS3).
   * With it, an object of the right size is skipped and anything else there is replaced (the
   * uploader must then write without a claim: S3ContentUploader); without it, a taken key is
   * skipped. See the comment at the top.
   */
  existingSize?: (key: string) => Promise<number | undefined>;
}

export interface StoredLfs {
  /** Objects uploaded by this run, and their bytes. */
  stored: number;
  storedBytes: number;
  /** Objects an earlier backup had stored already (skipped). */
  existing: number;
}

/** Each object to `lfs/{tenant}/{oid}` unless it is there already: objects are stored once. */
export async function storeLfsObjects(options: StoreLfsOptions): Promise<StoredLfs> {
  const result: StoredLfs = { stored: 0, storedBytes: 0, existing: 0 };
  await forEachLimited(options.objects, options.concurrency ?? 4, async (object) => {
    const key = lfsObjectKey(options.tenant, object.oid);
    const size = await options.existingSize?.(key);
    if (size === object.size) {
      result.existing++;
      return;
    }
    if (size !== undefined) {
      options.log(
        `${key} holds ${size} bytes, not the object's ${object.size}: replacing it with the checked object`,
      );
    }
    const pending = await options.uploader.begin(key);
    if (!pending) {
      result.existing++;
      return;
    }
    try {
      const checked = checkedContent(object);
      const body = createReadStream(object.path);
      body.on('error', (error) => checked.transform.destroy(error));
      await pending.send(
        body.pipe(checked.transform),
        choosePartSize(object.size, options.uploader.maxPartSize),
        checked.digest,
      );
    } catch (error) {
      await pending.abort();
      throw error;
    }
    result.stored++;
    result.storedBytes += object.size;
  });
  options.log(
    `LFS objects: ${result.stored} stored (${result.storedBytes} bytes), ${result.existing} already stored`,
  );
  return result;
}

/**
 * The file's bytes, ending in an error (so the upload aborts and nothing is completed) when they
 * are not the object any more: changed since it was checked.
 */
function checkedContent(object: LfsObject): {
  transform: Transform;
  digest: () => { sha256: string; size: number };
} {
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | undefined;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      sha256 = hash.digest('hex');
      callback(
        sha256 === object.oid && size === object.size
          ? null
          : new Error(
              `The LFS object ${object.path} changed while it was uploaded (${size} bytes, SHA-256 ${sha256})`,
            ),
      );
    },
  });
  return { transform, digest: () => ({ sha256: sha256 ?? object.oid, size }) };
}

/** The backup's list of LFS objects, as stored at `{stamp}.lfs.json`. */
export const lfsList = (objects: readonly Pick<LfsObject, 'oid' | 'size'>[]): Buffer =>
  Buffer.from(
    JSON.stringify({ format: LFS_LIST_FORMAT, objects: objects.map(({ oid, size }) => ({ oid, size })) }),
  );
