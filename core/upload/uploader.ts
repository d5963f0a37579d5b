// What both upload paths (S3 and the Worker's route) offer the orchestration, and how big
// their parts are.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';

export const MIB = 1024 * 1024;
export const MAX_PARTS = 10_000;
/** Parts in flight at once for the smallest parts. */
export const PARALLEL_PARTS = 4;
/** What the parts in flight plus the one being filled may hold. */
const PART_MEMORY = 96 * 1024 * 1024;
// awscli's default. Against 16 MiB parts, the first part leaves sooner and fewer bytes wait in
// memory (measured with the bench corpus, zstd: ~0.5 s faster, ~30 MiB less peak memory).
export const MIN_PART_SIZE = 8 * MIB;

/** The key was taken after it was claimed (a writer outside this protocol). Retry under the next name. */
export class KeyExistsError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`An archive already exists at ${key}`);
    this.key = key;
    this.name = 'KeyExistsError';
  }
}

/**
 * This run's identity, tagged on its claims so that a retry recognises its own: the workflow run
 * and attempt, and a random part (two processes of one run, or runs of a test, never share it).
 */
export const runIdentity = (): string =>
  [process.env.GITHUB_RUN_ID, process.env.GITHUB_RUN_ATTEMPT, randomUUID()].filter(Boolean).join('-');

/** An upload to a key this run holds. */
export interface PendingUpload {
  /**
   * Streams `body` into the key in equal parts; throws KeyExistsError when the key was taken.
   * `digestOf` gives the body's SHA-256 once it has ended (written into a single PutObject's metadata).
   */
  send(body: Readable, partSize: number, digestOf?: () => { sha256: string; size: number }): Promise<void>;
  /** Leaves nothing behind: no parts, no placeholder, no partial object. Idempotent. */
  abort(): Promise<void>;
}

export interface ArchiveUploader {
  /** Where archives go, for messages. */
  readonly description: string;
  /** Largest part this path can send. */
  readonly maxPartSize: number;
  /** Takes `key` for this run, or answers undefined when an object (or another run) has it. */
  begin(key: string): Promise<PendingUpload | undefined>;
}

/** Parts an archive is sized for: a margin under R2's 10,000. */
const PART_COUNT_TARGET = 9_000;

/** Whether an archive of at most `bytes` fits in parts of the smallest size. */
export const fitsSmallestParts = (bytes: number): boolean => bytes <= MIN_PART_SIZE * PART_COUNT_TARGET;

/**
 * Equal parts large enough that an archive of `estimatedBytes` fits in 9,000 parts (a margin
 * under R2's 10,000), never below 8 MiB and rounded up to whole MiB. The estimate is the
 * tree's uncompressed size, an upper bound of the archive's.
 */
export function choosePartSize(estimatedBytes: number, maxPartSize = 5 * 1024 * MIB): number {
  const needed = Math.ceil(estimatedBytes / PART_COUNT_TARGET / MIB) * MIB;
  const size = Math.max(MIN_PART_SIZE, needed);
  if (size > maxPartSize) {
    throw new Error(
      `The tree (${estimatedBytes} bytes) needs parts of ${size / MIB} MiB, more than this upload path allows (${Math.floor(maxPartSize / MIB)} MiB)`,
    );
  }
  return size;
}

/**
 * Parts in flight: four for parts up to 19 MiB, fewer for the larger parts of huge trees, so that
 * memory stays near (parts in flight + 1) x part size <= 96 MiB (measured: the process's peak
 * is about 120 MiB plus 1.6 times that).
 */
export const partsInFlight = (partSize: number): number =>
  Math.max(1, Math.min(PARALLEL_PARTS, Math.floor(PART_MEMORY / partSize) - 1));
