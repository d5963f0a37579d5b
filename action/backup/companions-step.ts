// After the archive is stored: its companions, each into the key claimed beside it. The git
// history (include-git-history), the metadata export (include-metadata), the wiki's history
// (include-wiki) and the LFS objects with their list (include-lfs). One that fails is aborted (nothing of
// it stays) and said; the others and the archive are stored and recorded all the same.
import * as core from '@actions/core';
import type { BackupMetadataInput } from '../../common/metadata.js';
import { bundleInto } from '../../core/git/history.js';
import { encryptingStream } from '../../core/crypto/age-stream.js';
import { formatBytes } from '../../core/format.js';
import type { ArchiveSource } from '../../core/r2/object-source.js';
import type { WorkerClient } from '../../core/worker-api/client.js';
import type { ActionInputs } from '../inputs.js';
import { active, type Claim, type Claims } from './claims.js';
import { storeMetadataExport, type StoredExport } from './metadata-step.js';
import type { StoredBundle } from './summary.js';
import { storeWiki, type StoredWiki } from './wiki-step.js';
import { storeLfs, type StoredLfs } from './lfs-step.js';
import type { Target } from './tenant.js';

export interface StoredCompanions {
  bundle?: StoredBundle;
  meta?: StoredExport;
  wiki?: StoredWiki;
  lfs?: StoredLfs;
}

export interface CompanionContext {
  inputs: ActionInputs;
  target: Target;
  /** `owner/name`. */
  repository: string;
  worker?: WorkerClient;
  source: ArchiveSource;
  /** With include-git-history: whether the checkout is shallow, and the bundle's part size. */
  history?: { shallow: boolean; partSize: number };
  partSizeFor: (root: string) => number;
  /** Why a step failed, as the step's failure message says it. */
  describe: (error: unknown) => string;
}

/** Runs `fill` on a claim; a failure (or nothing to store) leaves nothing of it. */
async function fillClaim<T>(
  claim: Claim | undefined,
  what: string,
  failures: string[],
  context: CompanionContext,
  fill: (claim: Claim) => Promise<T | undefined>,
): Promise<T | undefined> {
  if (!claim) return undefined;
  try {
    const stored = await fill(claim);
    if (stored === undefined) await claim.pending.abort();
    return stored;
  } catch (error) {
    await claim.pending.abort().catch(() => undefined);
    failures.push(`${what} failed: ${context.describe(error)}`);
    return undefined;
  } finally {
    active.delete(claim.pending);
  }
}

/** Fills the claimed bundle key with `git bundle create - --all`. */
async function storeBundle(context: CompanionContext, claim: Claim): Promise<StoredBundle> {
  const { inputs } = context;
  const history = context.history!;
  core.info(
    `Bundling the git history (every branch and tag) to ${claim.key}${history.shallow ? ' (shallow)' : ''}`,
  );
  const encrypt = inputs.encryptionRecipients && (await encryptingStream(inputs.encryptionRecipients));
  const digest = await bundleInto(inputs.path, claim.pending, history.partSize, encrypt || undefined);
  core.info(`Stored ${claim.key}: ${formatBytes(digest.size)}; sha256 ${digest.sha256}`);
  return { key: claim.key, ...digest, shallow: history.shallow };
}

export async function storeCompanions(
  claims: Claims,
  context: CompanionContext,
): Promise<{ stored: StoredCompanions; failures: string[] }> {
  const failures: string[] = [];
  const stored: StoredCompanions = {};
  stored.bundle = await fillClaim(claims.bundle, 'the git history bundle', failures, context, (claim) =>
    storeBundle(context, claim),
  );
  stored.meta = await fillClaim(claims.meta, 'the metadata export', failures, context, (claim) =>
    storeMetadataExport({ ...context, claim }),
  );
  stored.wiki = await fillClaim(claims.wiki, 'the wiki bundle', failures, context, (claim) =>
    storeWiki(context.inputs, context.repository, claim),
  );
  stored.lfs = await fillClaim(claims.lfs, 'the LFS objects', failures, context, (claim) =>
    storeLfs(context.inputs, context.target, context.worker, claim),
  );
  return { stored, failures };
}

/** The record's fields of what was stored. */
export function companionFields(stored: StoredCompanions): Partial<BackupMetadataInput> {
  const { bundle, meta, wiki, lfs } = stored;
  return {
    ...(bundle && {
      bundle_key: bundle.key,
      bundle_size: bundle.size,
      bundle_sha256: bundle.sha256,
      bundle_shallow: bundle.shallow,
    }),
    ...(meta && {
      meta_key: meta.key,
      meta_size: meta.size,
      meta_sha256: meta.sha256,
      meta_counts: meta.manifest.counts,
      meta_partial: meta.manifest.partial,
    }),
    ...(wiki && { wiki_key: wiki.key, wiki_size: wiki.size, wiki_sha256: wiki.sha256 }),
    ...(lfs && {
      lfs_key: lfs.key,
      lfs_size: lfs.size,
      lfs_sha256: lfs.sha256,
      lfs_count: lfs.count,
      lfs_bytes: lfs.bytes,
    }),
  };
}
