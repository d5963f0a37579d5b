// The S3 client for R2. Only object calls are ever made with it (Head/Put/multipart), so an
// R2 token scoped to one bucket, or to object operations, is enough.
//
// No request can hang: each attempt has a connection timeout, an idle timeout (no byte either
// way) and a deadline (callers of large bodies pass one sized to the body as `requestTimeout`),
// all from retry.ts. A failed attempt is retried when it may succeed (timeouts, resets, 5xx,
// 429, a corrected clock), after the server's Retry-After (capped) or a backoff, with a log line
// naming the request. Clock skew: the SDK corrects its clock from R2's Date header.
import { S3Client } from '@aws-sdk/client-s3';
import { retryDelay, retryNote, timeouts } from '../retry.js';

export interface S3Settings {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Attempts per request (default 5). */
  maxAttempts?: number;
  /** Where retries are reported (default: stderr). */
  log?: (message: string) => void;
}

/** Commands whose body is data to store: archives, their parts, records. */
const BODY_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand']);

interface Described {
  name?: string;
  message?: string;
  $response?: { headers?: Record<string, string> };
  /** The request that failed, as the log names it ("UploadPart backups/t/x.tar part 2"). */
  $r2Request?: string;
  /** With RequestTimeTooSkewed: how far the runner's clock is from R2's, in minutes (+ ahead). */
  $r2ClockSkewMinutes?: number;
}

/** "UploadPart backups/t/x.tar part 2". */
const describeRequest = (commandName: string | undefined, input: Record<string, unknown>): string =>
  `${(commandName ?? 'request').replace(/Command$/, '')} ${String(input.Key ?? input.Bucket ?? '')}${
    input.PartNumber ? ` part ${String(input.PartNumber)}` : ''
  }`;

/** The SDK's timeout messages, said plainly. */
function reasonOf(error: Described): string {
  const message = error.message ?? String(error);
  let m = /within the configured timeout of (\d+) ms/.exec(message);
  if (m) return `no connection within ${Number(m[1]) / 1000} s`;
  m = /after (\d+) ms of inactivity/.exec(message);
  if (m) return `no byte for ${Number(m[1]) / 1000} s (idle timeout)`;
  m = /exceeded the configured (\d+) ms requestTimeout/.exec(message);
  if (m) return `no answer within ${Number(m[1]) / 1000} s (per-attempt deadline)`;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return `${error.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${message}`;
}

/** Minutes the runner's clock is ahead of (+) or behind (-) the server's Date header. */
function clockSkewMinutes(error: Described): number | undefined {
  const date = error.$response?.headers?.date ?? error.$response?.headers?.Date;
  const server = date ? Date.parse(date) : NaN;
  return Number.isNaN(server) ? undefined : Math.round((Date.now() - server) / 60_000);
}

/** "the runner's clock is 20 minutes off (behind R2's)", or off by more than R2 allows. */
export function clockSkewText(minutes: number | undefined): string {
  if (minutes === undefined)
    return "the runner's clock is off (by more than the 15 minutes R2 allows; R2's answer had no Date header to correct it by)";
  return `the runner's clock is ${Math.abs(minutes)} minutes off (${minutes < 0 ? 'behind' : 'ahead of'} R2's)`;
}

/** A retry strategy (the SDK's v2 interface) honouring Retry-After up to a cap, and logging. */
function retryStrategy(attempts: number, log: (message: string) => void) {
  const token = (count: number, delay: number) => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    mode: 'standard',
    acquireInitialRetryToken: async () => token(0, 0),
    refreshRetryTokenForRetry: async (
      previous: { getRetryCount(): number },
      info: { error?: unknown; errorType: string; retryAfterHint?: Date },
    ) => {
      const count = previous.getRetryCount() + 1;
      if (count >= attempts || info.errorType === 'CLIENT_ERROR') throw new Error('No retry token available');
      const retryAfter = info.retryAfterHint
        ? Math.max(0, info.retryAfterHint.getTime() - Date.now())
        : undefined;
      const delay = retryDelay(count, retryAfter);
      const error = (info.error ?? {}) as Described;
      log(
        `S3 ${error.$r2Request ?? 'request'} failed (${reasonOf(error)}); ${retryNote(delay, retryAfter !== undefined, count + 1, attempts)}`,
      );
      return token(count, delay);
    },
    recordSuccess: () => undefined,
  };
}

export function createS3Client(settings: S3Settings): S3Client {
  const t = timeouts();
  const log = settings.log ?? ((message: string) => void process.stderr.write(`${message}\n`));
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    retryStrategy: retryStrategy(settings.maxAttempts ?? 5, log),
    requestHandler: {
      connectionTimeout: t.connectMs,
      socketTimeout: t.idleMs,
      requestTimeout: t.requestMs,
      throwOnRequestTimeout: true,
    },
    // R2 (and workerd) never answer `Expect: 100-continue`: uploads would stall.
    expectContinueHeader: false,
    // R2's endpoint does not take aws-chunked bodies with trailing checksums; integrity comes
    // from our own SHA-256 of the stream, recorded in the metadata.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // Each attempt: a failure names its request, and a skewed clock is said to be one.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const described = error as Described;
        if (described && typeof described === 'object') {
          described.$r2Request ??= describeRequest(
            context.commandName,
            args.input as Record<string, unknown>,
          );
          if (described.name === 'RequestTimeTooSkewed') {
            described.$r2ClockSkewMinutes = clockSkewMinutes(described);
            log(
              `S3 ${described.$r2Request}: R2 refused the request because ${clockSkewText(described.$r2ClockSkewMinutes)}`,
            );
          }
        }
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'r2DescribeAttempt' },
  );
  // Over HTTPS, bodies go with `x-amz-content-sha256: UNSIGNED-PAYLOAD`, as awscli and boto3 send
  // them: TLS already protects the bytes, and signing them costs one more SHA-256 pass over the
  // whole archive on the main thread (the signer hashes every part before sending it). The
  // archive's own SHA-256 is still computed and recorded. Over plain HTTP (local endpoints) the
  // signature keeps covering the body.
  if (new URL(settings.endpoint).protocol === 'https:') {
    client.middlewareStack.add(
      (next, context) => (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (BODY_COMMANDS.has(context.commandName ?? '') && request.headers)
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'unsignedPayloadOverTls' },
    );
  }
  return client;
}

/** The request a failed S3 call made, and the clock skew it found, for error messages. */
export const failedRequestOf = (error: unknown): string | undefined => (error as Described)?.$r2Request;
export const clockSkewOf = (error: unknown): number | undefined => (error as Described)?.$r2ClockSkewMinutes;
