// The LFS objects of a backup (include-lfs), back into a restored repository: the backup's list
// (`{stamp}.lfs.json`) checked against the record's size and SHA-256 before it is parsed, then
// every object it names from `lfs/{tenant}/{oid}` into the staging repository's LFS store,
// each hashed while it is written and refused unless its SHA-256 is its oid and its size the
// listed one. Objects are shared by every backup of a tenant, so the record vouches for their
// content only through their oids: the hash is what catches a planted object (core/git/lfs.ts).
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { link, mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LFS_OID_RE } from '../../common/validate.js';
import { gitLfsInstalled, LFS_LIST_FORMAT } from '../git/lfs.js';
import { forEachLimited } from '../pool.js';
import { downloadVerified, IntegrityError, type OpenArchive } from './archive.js';
import { decryptStaged } from './encrypted.js';

const exec = promisify(execFile);

/** Bounds on a list before it is read: a list is about 90 bytes an object. */
const MAX_LIST_BYTES = 64 * 1024 * 1024;
export const MAX_LFS_OBJECTS = 500_000;
const PARALLEL_DOWNLOADS = 4;

export interface LfsRestoreSource {
  /** The list's bytes, and its size and SHA-256 as the record gives them. */
  openList: OpenArchive;
  list: { sha256: string; size: number };
  /** An object's opener, of `lfs/{tenant}/{oid}`. */
  openObject: (oid: string) => OpenArchive;
  warn?: (message: string) => void;
}

export interface RestoredLfs {
  objects: number;
  bytes: number;
  /** The working tree has the files' content (git-lfs installed); else pointers until `git lfs checkout`. */
  checkedOut: boolean;
}

export interface ListedLfsObject {
  oid: string;
  size: number;
}

/** A list's objects, refused unless every entry is a well-formed oid and size, each once. */
export function parseLfsList(bytes: Buffer, maxObjects = MAX_LFS_OBJECTS): ListedLfsObject[] {
  const refuse = (why: string) => new IntegrityError(`The LFS list is malformed: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw refuse('it is not JSON');
  }
  const { format, objects } = (parsed ?? {}) as { format?: unknown; objects?: unknown };
  if (format !== LFS_LIST_FORMAT) throw refuse(`its format is not ${LFS_LIST_FORMAT}`);
  if (!Array.isArray(objects)) throw refuse('it has no list of objects');
  if (objects.length > maxObjects) throw refuse(`it lists more than ${maxObjects} objects`);
  const seen = new Set<string>();
  return objects.map((entry: unknown, index) => {
    const { oid, size } = (entry ?? {}) as { oid?: unknown; size?: unknown };
    if (typeof oid !== 'string' || !LFS_OID_RE.test(oid)) throw refuse(`entry ${index} has no valid oid`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw refuse(`entry ${index} has no valid size`);
    }
    if (seen.has(oid)) throw refuse(`${oid} is listed twice`);
    seen.add(oid);
    return { oid, size };
  });
}

/**
 * The list and every object it names into `repository`'s LFS store (`.git/lfs/objects/xx/yy/oid`),
 * downloaded through `staging`. Throws IntegrityError on any mismatch: the caller installs nothing.
 */
export async function stageLfsObjects(
  source: LfsRestoreSource,
  where: { staging: string; repository: string; target: string; identities?: string[] },
): Promise<ListedLfsObject[]> {
  const { staging, repository, target } = where;
  if (source.list.size > MAX_LIST_BYTES) {
    throw new IntegrityError(
      `The LFS list's record gives ${source.list.size} bytes, more than a list can hold`,
    );
  }
  const listFile = join(staging, 'lfs.json');
  const stored = where.identities ? `${listFile}.age` : listFile;
  await downloadVerified(source.openList, stored, source.list, 'The LFS list', target, { warn: source.warn });
  let bytes: Buffer;
  if (where.identities) {
    const plain = await decryptStaged(createReadStream(stored), where.identities, 'The LFS list', target);
    const chunks: Buffer[] = [];
    for await (const chunk of plain) chunks.push(chunk as Buffer);
    bytes = Buffer.concat(chunks);
  } else {
    bytes = await readFile(listFile);
  }
  const objects = parseLfsList(bytes);
  const store = join(repository, '.git', 'lfs', 'objects');
  await forEachLimited(objects, PARALLEL_DOWNLOADS, async ({ oid, size }) => {
    const downloaded = join(staging, `lfs-${oid}`);
    await downloadVerified(
      source.openObject(oid),
      downloaded,
      { sha256: oid, size },
      `The LFS object ${oid}`,
      target,
      { warn: source.warn },
    );
    const dir = join(store, oid.slice(0, 2), oid.slice(2, 4));
    await mkdir(dir, { recursive: true });
    // link, not rename: it fails (like a 'wx' open) rather than replace a file already there.
    await link(downloaded, join(dir, oid));
    await unlink(downloaded);
  });
  return objects;
}

/**
 * The files' content in the working tree (`git lfs install --local`, `git lfs checkout`) when
 * git-lfs is installed; else a warning that says how to finish. Whether it was checked out.
 */
export async function checkOutLfs(repository: string, warn?: (message: string) => void): Promise<boolean> {
  if (!(await gitLfsInstalled())) {
    warn?.(
      'git-lfs is not installed: the LFS objects are in .git/lfs/objects, and the working tree has their pointers; install git-lfs and run `git lfs install --local && git lfs checkout` in the restored repository',
    );
    return false;
  }
  await exec('git', ['lfs', 'install', '--local'], { cwd: repository });
  await exec('git', ['lfs', 'checkout'], { cwd: repository, maxBuffer: 16 * 1024 * 1024 });
  return true;
}
