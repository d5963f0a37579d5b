// Keeps repos/{tenant}/{branch}/ equal to a working tree, uploading only what changed.
// How it knows what is stored without a request per file, and how an interrupted sync is
// repaired by the next one: docs/mirror.md.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { mirrorManifestKey, mirrorPrefix } from '../../common/naming.js';
import { checkBranch, checkBucket, checkTenant, ValidationError } from '../../common/validate.js';
import { deleteKeys } from './delete.js';
import { createExclusion, type TrackedPaths } from '../tree/excludes.js';
import { compareKeys, scanLocalTree, type LocalFile } from './local-tree.js';
import {
  MANIFEST_VERSION,
  readManifest,
  writeManifest,
  type Manifest,
  type ManifestEntry,
} from './manifest.js';
import { planMirror, type StoredState } from './plan.js';
import { forEachLimited } from '../pool.js';
import { listAll, listWindow } from './remote-listing.js';
import { countRequests, type RequestCounts } from './request-counter.js';
import { chooseWindowStart, windowMismatch } from './spot-check.js';
import { uploadFile } from './upload.js';

export interface MirrorProgress {
  phase: 'scan' | 'upload' | 'delete' | 'done';
  uploaded: number;
  toUpload: number;
  deleted: number;
  toDelete: number;
}

export interface MirrorOptions {
  /** A client for the bucket's S3 endpoint (R2 settings: path style, region auto, ...). */
  s3: S3Client;
  bucket: string;
  tenant: string;
  branch: string;
  /** The working tree to mirror. */
  root: string;
  /** Names/patterns excluded at any depth, as the archive's (GNU tar --exclude). */
  excludes: readonly string[];
  /** Paths git tracks, kept although a pattern matches them (with the default excludes). */
  tracked?: TrackedPaths;
  /** Delete objects whose file is gone from the tree (default true). */
  deleteRemoved?: boolean;
  /** Uploads in flight at most (default 16). */
  concurrency?: number;
  /** Compare with a full listing instead of the manifest's spot check (default false). */
  fullListing?: boolean;
  onProgress?: (progress: MirrorProgress) => void;
}

/** How the stored state was learned: the manifest (spot-checked), the manifest of an
 *  interrupted sync (its pending paths redone), or a full listing. */
export type CheckedBy = 'manifest' | 'interrupted-manifest' | 'listing';

export interface MirrorResult {
  prefix: string;
  manifestKey: string;
  uploaded: number;
  deleted: number;
  unchanged: number;
  /** Stored objects whose file is gone, kept because deleteRemoved is off. */
  kept: number;
  /** Symbolic links and special files, not mirrored. */
  skipped: string[];
  bytesUploaded: number;
  checkedBy: CheckedBy;
  /** Why the manifest was not used, when checkedBy is 'listing'. */
  fallbackReason?: string;
  requests: RequestCounts;
}

export async function syncMirror(options: MirrorOptions): Promise<MirrorResult> {
  const tenant = checkTenant(options.tenant);
  const branch = checkBranch(options.branch);
  const bucket = checkBucket(options.bucket);
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new ValidationError('concurrency', 'must be an integer from 1 to 256');
  }
  const deleteRemoved = options.deleteRemoved ?? true;
  const { s3 } = options;
  const prefix = mirrorPrefix(tenant, branch);
  const manifestKey = mirrorManifestKey(tenant, branch);
  const progress: MirrorProgress = { phase: 'scan', uploaded: 0, toUpload: 0, deleted: 0, toDelete: 0 };
  const report = throttled(options.onProgress, progress);
  const counter = countRequests(s3);
  try {
    report(true);
    const [local, found] = await Promise.all([
      scanLocalTree(options.root, createExclusion(options.excludes, options.tracked).matcher),
      learnStoredState(s3, bucket, prefix, manifestKey, options.fullListing === true),
    ]);
    let stored = found;
    // Without deletes, a path in doubt that is not in the tree would stay unaccounted for.
    const localPaths = new Set(local.files.map((file) => file.path));
    if (!deleteRemoved && [...stored.unknown].some((path) => !localPaths.has(path))) {
      stored = await listingState(s3, bucket, prefix, null, 'interrupted sync and deleteRemoved off');
    }
    if (stored.checkedBy === 'listing') await matchByMd5(local.files, stored.known);
    const plan = planMirror(local.files, stored, deleteRemoved);

    const changes = plan.uploads.length + plan.deletes.length > 0;
    const finalFiles: Record<string, ManifestEntry> = {};
    for (const file of plan.unchanged) {
      finalFiles[file.path] = {
        size: file.size,
        etag: stored.known.get(file.path)!.etag,
        sha256: file.sha256,
      };
    }
    for (const path of plan.kept) finalFiles[path] = stored.known.get(path)!;
    let bytesUploaded = 0;

    if (changes) {
      // Before any object changes: say which paths are in doubt until the sync completes.
      const pending = [...plan.uploads.map((f) => f.path), ...plan.deletes];
      const trusted: Record<string, ManifestEntry> = {};
      for (const [path, entry] of stored.known) trusted[path] = entry;
      for (const path of pending) delete trusted[path];
      await writeManifest(s3, bucket, manifestKey, manifestOf(prefix, 'syncing', trusted, pending));

      progress.phase = 'upload';
      progress.toUpload = plan.uploads.length;
      progress.toDelete = plan.deletes.length;
      report(true);
      await forEachLimited(plan.uploads, concurrency, async (file) => {
        const entry = await uploadFile(s3, bucket, prefix + file.path, file);
        finalFiles[file.path] = entry;
        bytesUploaded += entry.size;
        progress.uploaded++;
        report(false);
      });
      progress.phase = 'delete';
      report(true);
      await deleteKeys(
        s3,
        bucket,
        plan.deletes.map((path) => prefix + path),
      );
      progress.deleted = plan.deletes.length;
    }
    if (changes || stored.checkedBy !== 'manifest') {
      const sorted = Object.fromEntries(Object.entries(finalFiles).sort(([a], [b]) => compareKeys(a, b)));
      await writeManifest(s3, bucket, manifestKey, manifestOf(prefix, 'complete', sorted, []));
    }
    progress.phase = 'done';
    report(true);
    return {
      prefix,
      manifestKey,
      uploaded: plan.uploads.length,
      deleted: plan.deletes.length,
      unchanged: plan.unchanged.length,
      kept: plan.kept.length,
      skipped: local.skipped,
      bytesUploaded,
      checkedBy: stored.checkedBy,
      fallbackReason: stored.fallbackReason,
      requests: structuredClone(counter.counts),
    };
  } finally {
    counter.detach();
  }
}

interface LearnedState extends StoredState {
  checkedBy: CheckedBy;
  fallbackReason?: string;
}

/** The manifest if it is ours and passes the spot check; otherwise a full listing. */
async function learnStoredState(
  s3: S3Client,
  bucket: string,
  prefix: string,
  manifestKey: string,
  fullListing: boolean,
): Promise<LearnedState> {
  const stored = await readManifest(s3, bucket, manifestKey, prefix);
  if (stored.status !== 'ok') return listingState(s3, bucket, prefix, null, stored.reason);
  const { manifest } = stored;
  if (fullListing) return listingState(s3, bucket, prefix, manifest, 'full listing asked for');
  const pending = new Set(manifest.pending);
  const startAfter = chooseWindowStart(Object.keys(manifest.files).sort(compareKeys));
  const page = await listWindow(s3, bucket, prefix, startAfter);
  const mismatch = windowMismatch(manifest.files, startAfter, page, pending);
  if (mismatch) return listingState(s3, bucket, prefix, manifest, `spot check: ${mismatch}`);
  const known = new Map(Object.entries(manifest.files).filter(([path]) => !pending.has(path)));
  return {
    known,
    unknown: pending,
    checkedBy: manifest.state === 'complete' && pending.size === 0 ? 'manifest' : 'interrupted-manifest',
  };
}

/** Everything stored under the prefix. A manifest of ours still tells the SHA-256 of each
 *  object whose ETag and size it recorded (an ETag names one content). */
async function listingState(
  s3: S3Client,
  bucket: string,
  prefix: string,
  manifest: Manifest | null,
  reason: string,
): Promise<LearnedState> {
  const known = await listAll(s3, bucket, prefix);
  for (const [path, entry] of known) {
    const recorded = manifest?.files[path];
    if (recorded?.sha256 && recorded.size === entry.size && recorded.etag === entry.etag) {
      entry.sha256 = recorded.sha256;
    }
  }
  return { known, unknown: new Set(), checkedBy: 'listing', fallbackReason: reason };
}

/** For listed objects of unknown content: a single-part ETag is the MD5 of the content, so a
 *  local file of the same size and MD5 is the same file (saves uploading it again). */
async function matchByMd5(files: readonly LocalFile[], known: Map<string, ManifestEntry>): Promise<void> {
  const candidates = files.filter((file) => {
    const entry = known.get(file.path);
    return entry && !entry.sha256 && entry.size === file.size && /^[0-9a-f]{32}$/.test(entry.etag);
  });
  await forEachLimited(candidates, 32, async (file) => {
    const hash = createHash('md5');
    await pipeline(createReadStream(file.absolute), hash);
    const md5 = hash.digest('hex');
    const entry = known.get(file.path)!;
    if (md5 === entry.etag) entry.sha256 = file.sha256;
  });
}

function manifestOf(
  prefix: string,
  state: Manifest['state'],
  files: Record<string, ManifestEntry>,
  pending: string[],
): Manifest {
  return { version: MANIFEST_VERSION, prefix, state, updatedAt: new Date().toISOString(), pending, files };
}

/** Calls onProgress at most about once a second, and always when forced. */
function throttled(
  onProgress: ((p: MirrorProgress) => void) | undefined,
  progress: MirrorProgress,
): (force: boolean) => void {
  let last = 0;
  return (force) => {
    if (!onProgress || (!force && Date.now() - last < 1000)) return;
    last = Date.now();
    onProgress({ ...progress });
  };
}
