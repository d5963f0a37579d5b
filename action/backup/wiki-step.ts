// include-wiki: the wiki's git repository (`{server}/{owner}/{repo}.wiki.git`, cloned with
// github-token) bundled into the claimed `{stamp}.wiki.bundle`.
import * as core from '@actions/core';
import { encryptingStream } from '../../core/crypto/age-stream.js';
import { formatBytes } from '../../core/format.js';
import { bundleWiki, wikiRemote } from '../../core/git/wiki.js';
import { MIN_PART_SIZE } from '../../core/upload/uploader.js';
import type { ActionInputs } from '../inputs.js';
import type { Claim } from './claims.js';

export interface StoredWiki {
  key: string;
  size: number;
  sha256: string;
}

/** The wiki's bundle, or undefined when the repository has no wiki yet (warned; the caller
 *  gives the claim back). */
export async function storeWiki(
  inputs: ActionInputs,
  repository: string,
  claim: Claim,
): Promise<StoredWiki | undefined> {
  const remote = wikiRemote(process.env.GITHUB_SERVER_URL || 'https://github.com', repository);
  const encrypt = inputs.encryptionRecipients && (await encryptingStream(inputs.encryptionRecipients));
  // A wiki is small next to parts of 8 MiB; a large one just takes more parts.
  const digest = await bundleWiki({
    remote,
    token: inputs.repositoryExtras.githubToken,
    pending: claim.pending,
    partSize: MIN_PART_SIZE,
    encrypt: encrypt || undefined,
    log: core.info,
  });
  if (!digest) {
    encrypt?.destroy();
    core.warning(
      `include-wiki: ${remote} has no wiki repository (the wiki has no page yet, or github-token cannot read it); nothing stored for it`,
    );
    return undefined;
  }
  core.info(`Stored ${claim.key}: ${formatBytes(digest.size)}; sha256 ${digest.sha256}`);
  return { key: claim.key, ...digest };
}
