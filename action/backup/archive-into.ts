// A directory streamed as an archive into a claimed key: the checkout (the backup itself) and
// the metadata export go the same way, hashed on their way so the digest is of the stored bytes.
import * as core from '@actions/core';
import type { Readable } from 'node:stream';
import { createArchiveStream, type ArchiveResult } from '../../core/archive/stream.js';
import { encryptingStream } from '../../core/crypto/age-stream.js';
import { formatBytes, formatRate } from '../../core/format.js';
import { createHashCounter } from '../../core/streams/hash.js';
import type { TrackedPaths } from '../../core/tree/excludes.js';
import type { PendingUpload } from '../../core/upload/uploader.js';
import type { Compression } from '../../common/validate.js';

const PROGRESS_EVERY_MS = 10_000;

export interface ArchivedDirectory {
  root: string;
  excludes: string[];
  tracked?: TrackedPaths;
  compression: Compression;
  /** age recipients (encryption-recipients): the stored bytes are an age file. */
  recipients?: string[];
}

/** Streams the archive of `directory` (encrypted for its recipients) through the hash counter
 *  into the pending upload. */
export async function archiveInto(
  directory: ArchivedDirectory,
  pending: PendingUpload,
  partSize: number,
): Promise<{ sha256: string; size: number; archive: ArchiveResult }> {
  const started = Date.now();
  let lastLog = started;
  const archive = createArchiveStream({
    root: directory.root,
    excludes: directory.excludes,
    tracked: directory.tracked,
    compression: directory.compression,
    onProgress: ({ files, bytesIn }) => {
      if (Date.now() - lastLog < PROGRESS_EVERY_MS) return;
      lastLog = Date.now();
      core.info(`  ${files} files, ${formatBytes(bytesIn)} read, ${formatRate(bytesIn, lastLog - started)}`);
    },
  });
  const hash = createHashCounter();
  let stored: Readable = archive.stream;
  const encrypter = directory.recipients && (await encryptingStream(directory.recipients));
  if (encrypter) {
    archive.stream.on('error', (error) => encrypter.destroy(error));
    stored = archive.stream.pipe(encrypter);
  }
  stored.on('error', (error) => hash.transform.destroy(error));
  const body: Readable = stored.pipe(hash.transform);
  try {
    await pending.send(body, partSize, () => hash.digest());
  } catch (error) {
    archive.stream.destroy();
    encrypter?.destroy();
    // The archive's own error (an unreadable file, say) is the cause worth reporting.
    throw await archive.result.then(
      () => error,
      (archiveError: unknown) => archiveError,
    );
  }
  const result = await archive.result;
  return { ...hash.digest(), archive: result };
}
