// The keys a backup claims before it uploads: the archive's name, and beside it each companion
// asked for (`{stamp}.bundle`, `.meta.tar.zst`, `.wiki.bundle`, `.lfs.json`), so a run holds every
// name it will fill or none of them.
import * as core from '@actions/core';
import { archiveKey, companionFileName } from '../../common/naming.js';
import type { CompanionKind } from '../../common/validate.js';
import type { ArchiveUploader, PendingUpload } from '../../core/upload/uploader.js';

/** Uploads in progress (the archive, the companions' claims), aborted if the runner cancels the job. */
export const active = new Set<PendingUpload>();

/** A companion's key, claimed with the archive's name, to fill once the archive is stored. */
export interface Claim {
  key: string;
  pending: PendingUpload;
}

export type Claims = Partial<Record<CompanionKind, Claim>>;

/** Claims each companion of `backupFile` (`{stamp}.bundle`...), or none: undefined when another
 *  run holds one of them, and what was claimed is given back. */
export async function claimCompanions(
  tenant: string,
  backupFile: string,
  uploaders: Partial<Record<CompanionKind, ArchiveUploader>>,
): Promise<Claims | undefined> {
  const claims: Claims = {};
  for (const [kind, uploader] of Object.entries(uploaders) as [CompanionKind, ArchiveUploader][]) {
    const key = archiveKey(tenant, companionFileName(backupFile, kind));
    const pending = await uploader.begin(key);
    if (!pending) {
      await releaseClaims(Object.values(claims));
      return undefined;
    }
    active.add(pending);
    claims[kind] = { key, pending };
  }
  return claims;
}

/** Aborts each claim (nothing stays of it); what could not be aborted is said. */
export async function releaseClaims(claims: Claim[]): Promise<string[]> {
  const said: string[] = [];
  for (const { key, pending } of claims) {
    active.delete(pending);
    await pending.abort().then(
      () => said.push(`the upload of ${key} was aborted (no parts, no placeholder left)`),
      (abortError: unknown) => {
        core.warning(`Could not clean up a claimed key: ${(abortError as Error).message}`);
        said.push(`the upload of ${key} could not be aborted (${(abortError as Error).message})`);
      },
    );
  }
  return said;
}
