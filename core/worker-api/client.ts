// Talks to the backup Worker (docs/worker-api.md): records, notifications, listing and the
// upload route. Every call has a timeout; the token only ever goes in the Authorization header.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseRetryAfter, timeouts, withRetries, type RetryOptions } from '../retry.js';
import type {
  BackupMetadata,
  BackupMetadataInput,
  BackupNotificationInput,
  InventoryResponse,
  ListResponse,
  PruneResponse,
} from '../../common/metadata.js';

/** The Worker answered with an error status. */
export class WorkerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    /** The Worker's `reason` (a 403 names the role needed). */
    readonly reason?: string,
    /** The answer's Retry-After, in ms from when it came. */
    readonly retryAfterMs?: number,
    /** The bucket the request was about: the Worker's `bucket`, else the one asked for. */
    readonly bucket?: string,
  ) {
    super(message);
    this.name = 'WorkerApiError';
  }
}

/** No answer at all: refused connection, DNS, timeout. */
export class WorkerUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`The Worker at ${url} cannot be reached: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'WorkerUnreachableError';
  }
}

/** The body of a Worker error ({success:false, error, field?, reason?, bucket?}), read leniently. */
interface ErrorBody {
  error?: string;
  field?: string;
  reason?: string;
  bucket?: string;
}

function errorBody(text: string): ErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {}; // not JSON: the caller reports the text itself
  }
  const string = (name: string): string | undefined => {
    const value = (parsed as Record<string, unknown> | null)?.[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    error: string('error'),
    field: string('field'),
    reason: string('reason'),
    bucket: string('bucket'),
  };
}

/**
 * `GET /api/...: 403 Forbidden: not allowed to use bucket b`, `...: 404 Bucket not found (bucket b)`:
 * the status, the Worker's error and its reason, and the bucket when the text does not name it.
 */
function refusal(
  what: string,
  status: number,
  body: ErrorBody,
  fallback: string,
  bucket: string | undefined,
): string {
  const text = `${what}: ${status} ${body.error ?? fallback}${body.reason ? `: ${body.reason}` : ''}`;
  return bucket && !text.includes(bucket) ? `${text} (bucket ${bucket})` : text;
}

/** Worth another attempt: no answer, or a 5xx / 429. */
export const isTransientWorkerError = (error: unknown): boolean =>
  error instanceof WorkerUnreachableError ||
  (error instanceof WorkerApiError && (error.status >= 500 || error.status === 429));

/** The Retry-After of a Worker error, for withRetries. */
export const workerRetryAfter = (error: unknown): number | undefined =>
  error instanceof WorkerApiError ? error.retryAfterMs : undefined;

/** withRetries' options for a Worker call: its transient errors, its Retry-After (capped), and a
 *  log line naming `what` for each retry. */
export const workerRetries = (
  what: string,
  log: ((message: string) => void) | undefined,
  attempts = 3,
): RetryOptions => ({
  attempts,
  isTransient: isTransientWorkerError,
  retryAfterOf: workerRetryAfter,
  what,
  log,
});

/** No Worker there at all (a refused connection, a name that does not resolve): a wrong URL or a
 *  Worker not deployed far more often than a blip, reported at once as such. */
const nobodyThere = (error: unknown): boolean =>
  error instanceof WorkerUnreachableError &&
  ['ECONNREFUSED', 'ENOTFOUND'].includes((error.cause as NodeJS.ErrnoException | undefined)?.code ?? '');

interface Answer {
  status: number;
  statusText: string;
  text: string;
  retryAfter?: string;
}

/**
 * One request with node:http (fetch copies every body it is given: a 16 MiB part, each attempt,
 * doubling the memory of the parts in flight; a socket write does not). It never hangs: a
 * connection timeout, an idle timeout (no byte either way for `idleMs`) and a deadline for the
 * whole attempt, each named in the error.
 */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
  deadlineMs: number,
): Promise<Answer> {
  const t = timeouts();
  const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, {
    method,
    headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
  });
  return new Promise<Answer>((resolve, reject) => {
    const fail = (reason: string): void => void request.destroy(new Error(reason));
    const deadline = setTimeout(() => fail(`no answer within ${deadlineMs / 1000} s`), deadlineMs);
    const connecting = setTimeout(() => fail(`no connection within ${t.connectMs / 1000} s`), t.connectMs);
    request.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connecting);
      else socket.once('connect', () => clearTimeout(connecting));
    });
    request.setTimeout(t.idleMs, () => fail(`no byte for ${t.idleMs / 1000} s (idle timeout)`));
    request.on('close', () => {
      clearTimeout(deadline);
      clearTimeout(connecting);
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? '',
          text,
          retryAfter: response.headers['retry-after'],
        }),
      );
      response.on('error', reject);
      response.on('aborted', () => reject(new Error('the answer was cut')));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** The bucket a request names: `?bucket=`, a JSON body's `bucket`, or `/api/r2/buckets/{bucket}/`. */
function bucketOf(path: string, query: RequestOptions['query'], json?: unknown): string | undefined {
  const inBody = (json as { bucket?: unknown } | undefined)?.bucket;
  if (typeof inBody === 'string') return inBody;
  if (query?.bucket) return query.bucket;
  const inPath = /^\/api\/r2\/buckets\/([^/]+)\//.exec(path)?.[1];
  return inPath === undefined ? undefined : decodeURIComponent(inPath);
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  json?: unknown;
  body?: Uint8Array;
  /** The attempt's deadline (default: the client's; retry.ts's R2_BACKUP_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** A fixed token, or a source of fresh ones (GitHub OIDC ID tokens expire). */
export type BearerToken = string | (() => Promise<string>);

export class WorkerClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: BearerToken,
    private readonly timeoutMs = timeouts().requestMs,
    /** Where retries of read-only calls are reported (default: stderr). */
    private readonly log: (message: string) => void = (message) => void process.stderr.write(`${message}\n`),
  ) {}

  url(path: string, query: Record<string, string | undefined> = {}): string {
    const url = new URL(path, `${this.baseUrl}/`);
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, value);
    return url.toString();
  }

  /** One call; a GET (it changes nothing) is retried on no answer or a 5xx/429, after the
   *  Worker's Retry-After (capped). Other calls are retried by their callers, who know whether
   *  a repeat is safe. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    if (method !== 'GET') return this.requestOnce<T>(method, path, options);
    const retries = workerRetries(`GET ${path}`, this.log);
    return withRetries(() => this.requestOnce<T>(method, path, options), {
      ...retries,
      isTransient: (error) => retries.isTransient(error) && !nobodyThere(error),
    });
  }

  private async requestOnce<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const url = this.url(path, options.query);
    const token = typeof this.token === 'string' ? this.token : await this.token();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
    };
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (options.body) headers['content-type'] = 'application/octet-stream';
    else if (options.json !== undefined) headers['content-type'] = 'application/json';
    const body =
      options.body ?? (options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json)));
    let response: Answer;
    try {
      response = await send(url, method, headers, body, timeoutMs);
    } catch (error) {
      throw new WorkerUnreachableError(this.baseUrl, error);
    }
    const { text } = response;
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON: reported below with the status
    }
    const ok = response.status >= 200 && response.status < 300;
    if (!ok || parsed.success !== true) {
      const body = errorBody(text);
      const bucket = body.bucket ?? bucketOf(path, options.query, options.json);
      throw new WorkerApiError(
        response.status,
        refusal(
          `${method} ${path}`,
          response.status,
          body,
          text.slice(0, 200) || response.statusText,
          bucket,
        ),
        body.field,
        body.reason,
        parseRetryAfter(response.retryAfter),
        bucket,
      );
    }
    return parsed as T;
  }

  async storeMetadata(input: BackupMetadataInput): Promise<BackupMetadata> {
    const answer = await this.request<{ metadata: BackupMetadata }>('POST', '/api/github/backup', {
      json: input,
    });
    return answer.metadata;
  }

  async notify(input: BackupNotificationInput): Promise<string> {
    const answer = await this.request<{ key: string }>('POST', '/api/github/backup/notify', { json: input });
    return answer.key;
  }

  /** Applies a retention policy (`keep_last`, ...) to a tenant; the Worker does the deleting. */
  prune(
    tenant: string,
    bucket: string,
    policy: Record<string, number>,
    dryRun = false,
    run?: { backup_file: string; started_ms_ago: number },
  ): Promise<PruneResponse> {
    return this.request<PruneResponse>('POST', '/api/github/backup/prune', {
      json: { tenant, bucket, ...policy, dry_run: dryRun, ...(run ? { run } : {}) },
    });
  }

  list(tenant: string, bucket: string, limit = 100, cursor?: string): Promise<ListResponse> {
    return this.request<ListResponse>('GET', '/api/github/backup/list', {
      query: { tenant, bucket, limit: String(limit), cursor },
    });
  }

  /** Every record of a tenant, newest first, page by page. */
  async listAll(tenant: string, bucket: string): Promise<BackupMetadata[]> {
    const records: BackupMetadata[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list(tenant, bucket, 1000, cursor);
      records.push(...page.backups);
      cursor = page.cursor;
    } while (cursor);
    return records;
  }

  inventory(tenant: string, bucket: string): Promise<InventoryResponse> {
    return this.request<InventoryResponse>(
      'GET',
      `/api/github/backup/${encodeURIComponent(tenant)}/inventory`,
      {
        query: { bucket },
      },
    );
  }

  /** An object's bytes through the download route, as a stream (no copy in memory), and its
   *  ETag; `from` resumes a cut download: the bytes from `offset` on, of that ETag only. */
  async download(
    bucket: string,
    key: string,
    signal?: AbortSignal,
    from?: { offset: number; etag: string },
  ): Promise<{ body: IncomingMessage; etag: string | undefined }> {
    const url = this.url(`/api/r2/buckets/${encodeURIComponent(bucket)}/download`, { key });
    const token = typeof this.token === 'string' ? this.token : await this.token();
    const get = url.startsWith('https:') ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (from) Object.assign(headers, { range: `bytes=${from.offset}-`, 'if-match': from.etag });
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = get(url, { headers, signal }, resolve);
      request.setTimeout(this.timeoutMs, () =>
        request.destroy(new Error(`no answer in ${this.timeoutMs} ms`)),
      );
      request.on('error', (error) => reject(new WorkerUnreachableError(this.baseUrl, error)));
      request.end();
    });
    if (response.statusCode !== 200 && response.statusCode !== 206) {
      let text = '';
      for await (const chunk of response) text += String(chunk);
      const body = errorBody(text);
      const status = response.statusCode ?? 0;
      throw new WorkerApiError(
        status,
        refusal(`GET download ${key}`, status, body, text.slice(0, 200), body.bucket ?? bucket),
        body.field,
        body.reason,
        undefined,
        body.bucket ?? bucket,
      );
    }
    // A resumed answer must start where the staged bytes end (a whole object would be appended).
    const range = response.headers['content-range'];
    if (from && !range?.startsWith(`bytes ${from.offset}-`)) {
      response.destroy();
      throw new Error(
        `GET download ${key}: asked from byte ${from.offset}, answered ${range ? `with ${range}` : 'the whole object'}`,
      );
    }
    return { body: response, etag: response.headers.etag };
  }
}
