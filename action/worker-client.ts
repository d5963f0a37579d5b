// Talks to the backup Worker (docs/worker-api.md): records, notifications, listing and the
// upload route. Every call has a timeout; the token only ever goes in the Authorization header.
import type {
  BackupMetadata,
  BackupMetadataInput,
  BackupNotificationInput,
  ListResponse,
} from '../common/metadata.js';

/** The Worker answered with an error status. */
export class WorkerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'WorkerApiError';
  }
}

/** No answer at all: refused connection, DNS, timeout. */
export class WorkerUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`The Worker at ${url} cannot be reached: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'WorkerUnreachableError';
  }
}

/** Worth another attempt: no answer, or a 5xx / 429. */
export const isTransientWorkerError = (error: unknown): boolean =>
  error instanceof WorkerUnreachableError ||
  (error instanceof WorkerApiError && (error.status >= 500 || error.status === 429));

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  json?: unknown;
  body?: Uint8Array;
  timeoutMs?: number;
}

export class WorkerClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {}

  url(path: string, query: Record<string, string | undefined> = {}): string {
    const url = new URL(path, `${this.baseUrl}/`);
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, value);
    return url.toString();
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
    };
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body) {
      headers['content-type'] = 'application/octet-stream';
      body = options.body;
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
      });
    } catch (error) {
      throw new WorkerUnreachableError(this.baseUrl, (error as Error).cause ?? error);
    }
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON: reported below with the status
    }
    if (!response.ok || parsed.success !== true) {
      const message =
        typeof parsed.error === 'string' ? parsed.error : text.slice(0, 200) || response.statusText;
      const field = typeof parsed.field === 'string' ? parsed.field : undefined;
      throw new WorkerApiError(response.status, `${method} ${path}: ${response.status} ${message}`, field);
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

  async getBackup(tenant: string, backupFile: string, bucket: string): Promise<BackupMetadata> {
    const path = `/api/github/backup/${encodeURIComponent(tenant)}/${encodeURIComponent(backupFile)}`;
    const answer = await this.request<{ metadata: BackupMetadata }>('GET', path, { query: { bucket } });
    return answer.metadata;
  }

  list(tenant: string, bucket: string, limit = 100): Promise<ListResponse> {
    return this.request<ListResponse>('GET', '/api/github/backup/list', {
      query: { tenant, bucket, limit: String(limit) },
    });
  }
}
