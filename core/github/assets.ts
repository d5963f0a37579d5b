// A release asset's bytes, streamed to a file: the API answers with a redirect to its storage,
// which is followed here without the API's authorization header (the storage is another origin,
// and its URL is signed). The file must end with exactly the asset's size.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { attemptDeadlineMs, withRetries } from '../retry.js';
import type { GitHubApi } from './client.js';
import { RateLimitExhausted } from './limits.js';

export interface AssetToDownload {
  owner: string;
  repo: string;
  assetId: number;
  size: number;
  file: string;
}

const ATTEMPTS = 3;

async function bodyOf(
  api: GitHubApi,
  asset: AssetToDownload,
  signal: AbortSignal,
): Promise<WebReadableStream<Uint8Array>> {
  const response = await api.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
    owner: asset.owner,
    repo: asset.repo,
    asset_id: asset.assetId,
    headers: { accept: 'application/octet-stream' },
    request: { redirect: 'manual', parseSuccessResponseBody: false, signal },
  });
  const body = response.data as unknown as WebReadableStream<Uint8Array> | null;
  if (response.status >= 300 && response.status < 400) {
    await body?.cancel().catch(() => {});
    const location = (response.headers as Record<string, string | undefined>).location;
    if (!location) throw new Error(`asset ${asset.assetId}: a redirect without a location`);
    const storage = await fetch(new URL(location, response.url), {
      headers: { accept: 'application/octet-stream' },
      signal,
    });
    if (!storage.ok || !storage.body) {
      await storage.body?.cancel().catch(() => {});
      throw new Error(`asset ${asset.assetId}: its storage answered ${storage.status}`);
    }
    return storage.body as WebReadableStream<Uint8Array>;
  }
  if (!body) throw new Error(`asset ${asset.assetId}: an empty answer`);
  return body;
}

async function downloadOnce(api: GitHubApi, asset: AssetToDownload): Promise<void> {
  // A stalled transfer is abandoned (and retried) after the deadline of a body of its size.
  const body = await bodyOf(api, asset, AbortSignal.timeout(attemptDeadlineMs(asset.size)));
  let bytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(
        bytes > asset.size ? new Error(`asset ${asset.assetId}: more than its ${asset.size} bytes`) : null,
        chunk,
      );
    },
  });
  try {
    await pipeline(Readable.fromWeb(body), counted, createWriteStream(asset.file, { flags: 'w' }));
    if (bytes !== asset.size) throw new Error(`asset ${asset.assetId}: ${bytes} bytes of ${asset.size}`);
  } catch (error) {
    await rm(asset.file, { force: true });
    throw error;
  }
}

/** 4xx answers and rate limits are not worth another attempt; a cut or short body is. */
const isTransient = (error: unknown): boolean => {
  if (error instanceof RateLimitExhausted) return false;
  const status = (error as { status?: unknown }).status;
  return !(typeof status === 'number' && status >= 400 && status < 500);
};

export async function downloadAsset(
  api: GitHubApi,
  asset: AssetToDownload,
  log: (message: string) => void,
): Promise<void> {
  await withRetries(() => downloadOnce(api, asset), {
    attempts: ATTEMPTS,
    isTransient,
    what: `asset ${asset.assetId}`,
    log,
  });
}
