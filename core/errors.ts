// What went wrong, said with what to do about it: the README Troubleshooting entry that fixes an
// error, the request and attempts of a network failure, and the CLI's exit code for it. The
// Worker's own reason and the bucket are already in WorkerApiError's message (client.ts).
import { DEFAULT_BUCKET_SOURCE } from '../common/naming.js';
import { ValidationError } from '../common/validate.js';
import { clockSkewOf, clockSkewText } from './r2/client.js';
import { gaveUpOn } from './retry.js';
import { WorkerApiError, WorkerUnreachableError } from './worker-api/client.js';
import { RateLimitExhausted } from './github/limits.js';

/** The CLI's exit codes, distinct per kind of outcome. */
export const EXIT = { ok: 0, problems: 1, usage: 2, refused: 3, unavailable: 4 } as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  problems found (verify), or the command failed otherwise (a check refused an archive)
  2  usage: unknown command or flag, a missing or invalid value
  3  not allowed or not found: the Worker or R2 refused the credential; no such bucket or backup
  4  network or server error: the Worker or R2 unreachable, or answering 5xx/429 after retries;
     or GitHub's rate limit (replay) not reset within the wait allowed`;

/** README.md's Troubleshooting entries, by the bold text each starts with. */
export const TROUBLESHOOTING = {
  unauthorized: 'Unauthorized (401)',
  forbidden: 'Forbidden (403): not allowed to use bucket or tenant',
  maintain: 'Forbidden (403): needs the maintain role',
  bucketNotFound: 'Bucket not found (404)',
  unreachable: 'The Worker cannot be reached',
  network: 'A request failed after its retries',
  defaultBucket: 'Invalid bucket (from the default {tenant}-github-backup)',
} as const;
export type TroubleshootingEntry = keyof typeof TROUBLESHOOTING;

export const seeTroubleshooting = (entry: TroubleshootingEntry): string =>
  `See README.md, Troubleshooting: "${TROUBLESHOOTING[entry]}".`;

/** The error and the errors it wraps (`cause`), outermost first. */
export function* causeChain(error: unknown): Generator<unknown> {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const statusOf = (error: unknown): number | undefined =>
  error instanceof WorkerApiError
    ? error.status
    : (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/** An S3 SDK error that got no HTTP answer: its retries ran, but no status came back. */
const s3WithoutAnswer = (error: unknown): boolean => {
  const metadata = (error as { $metadata?: { attempts?: number; httpStatusCode?: number } })?.$metadata;
  return metadata?.attempts !== undefined && metadata.httpStatusCode === undefined;
};

/** No answer, or an answer cut: a refused or reset connection, a timeout, a premature close. */
export function isNetworkError(error: unknown): boolean {
  return [...causeChain(error)].some(
    (e) =>
      e instanceof WorkerUnreachableError ||
      NETWORK_CODES.has((e as { code?: string }).code ?? '') ||
      /^(TimeoutError|RequestTimeout|DownloadError)$/.test((e as Error).name ?? '') ||
      s3WithoutAnswer(e),
  );
}

/** A refusal by the Worker or R2 (credential, tenant, bucket): nothing a retry would change. */
function isRefusal(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 401 || status === 403 || status === 404) return true;
  return /^(AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|NoSuchBucket|NoSuchKey)$/.test(
    (error as Error)?.name ?? '',
  );
}

/** The README entry that fixes `error`, if there is one. */
export function troubleshootingOf(error: unknown): TroubleshootingEntry | undefined {
  for (const e of causeChain(error)) {
    if (e instanceof WorkerApiError) {
      if (e.status === 401) return 'unauthorized';
      if (e.status === 403) return e.reason?.includes('maintain role') ? 'maintain' : 'forbidden';
      if (e.status === 404 && e.bucket) return 'bucketNotFound';
      if (e.status >= 500 || e.status === 429) return 'network';
    }
    if (e instanceof WorkerUnreachableError)
      return (gaveUpOn(e)?.attempts ?? 1) > 1 ? 'network' : 'unreachable';
    // checkedDefaultBucket's rule, also when the CLI rethrows it as a usage error.
    if ((e as Error).message?.includes(`(${DEFAULT_BUCKET_SOURCE},`)) return 'defaultBucket';
  }
  return isNetworkError(error) ? 'network' : undefined;
}

/** "UploadPart backups/t/x.tar part 3 failed after 5 attempts", when retries gave up on it. */
export function failedRequestText(error: unknown): string | undefined {
  for (const e of causeChain(error)) {
    const gaveUp = gaveUpOn(e);
    if (gaveUp && gaveUp.attempts > 1)
      return `${gaveUp.what ?? 'a request'} failed after ${gaveUp.attempts} attempts`;
  }
  return undefined;
}

/** `text` ending as a sentence does: its own `.`, `?` or `!`, else a full stop. */
export const endSentence = (text: string): string => text.trimEnd().replace(/([^.?!])$/, '$1.');

/** Ends `text` with a sentence's full stop, then the README entry that fixes `error`, if any. */
export function withFix(text: string, error: unknown): string {
  const entry = troubleshootingOf(error);
  return entry ? `${endSentence(text)} ${seeTroubleshooting(entry)}` : text;
}

/** What failed: the message, led by the request and its attempts when retries gave up on it,
 *  and by the clock when R2 refused a request for it (the SDK's text blames the signature). */
export function whatFailed(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const request = failedRequestText(error);
  const failed = request && !message.includes(request) ? `${request}: ${message}` : message;
  const skewed = [...causeChain(error)].find((e) => (e as Error)?.name === 'RequestTimeTooSkewed');
  return skewed && !failed.includes('clock')
    ? `R2 refused the request because ${clockSkewText(clockSkewOf(skewed))}: set this machine's clock right (NTP). ${failed}`
    : failed;
}

/** An error as one message: what failed (with its request and attempts) and the fix. */
export const explain = (error: unknown): string => withFix(whatFailed(error), error);

/** The CLI's exit code for an error that ended a command (usage errors are the caller's). */
export function exitCodeOf(error: unknown): number {
  for (const e of causeChain(error)) {
    if (e instanceof ValidationError) return EXIT.usage;
    if (e instanceof NotFoundError) return EXIT.refused;
    // GitHub's rate limit outlasted the wait allowed: try again after its reset.
    if (e instanceof RateLimitExhausted) return EXIT.unavailable;
    if (e instanceof WorkerApiError && e.status === 400) return EXIT.usage;
    if (isRefusal(e)) return EXIT.refused;
    const status = statusOf(e);
    if (status !== undefined && (status >= 500 || status === 429)) return EXIT.unavailable;
  }
  return isNetworkError(error) ? EXIT.unavailable : EXIT.problems;
}

/** What was asked for is not there (no backup of that name or commit): exit code 3. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A failed upload, with what was cleaned up after it ("the upload of K was aborted ..."). */
export class UploadCleanedUpError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly cleanup: string,
  ) {
    super(`${(cause as Error)?.message ?? String(cause)} ${cleanup}`, { cause });
    this.name = 'UploadCleanedUpError';
  }
}
