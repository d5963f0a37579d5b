// A local HTTP server that answers like GitHub's REST API, for the tests of the metadata export,
// `restore --metadata` and `replay`. Three listeners on 127.0.0.1, three origins as on GitHub:
// - apiUrl: the REST API (GITHUB_API_URL, Octokit's baseUrl); token required, rate limited;
// - uploadsUrl: release asset uploads (the origin of a release's `upload_url`, like
//   uploads.github.com); token required, rate limited;
// - downloadsUrl: where GET /releases/assets/{id} with `accept: application/octet-stream`
//   redirects (like objects.githubusercontent.com): a signed URL that needs no token. It records
//   whether an authorization header reached it and, like the S3 behind GitHub's, refuses such a
//   request with 400: a client must not send the token to another origin.
// GET answers carry an ETag; `if-none-match` with it gets 304, which does not use the rate limit.
// The state is the model (model.ts); seed.ts builds it fast; limits.ts holds the rate limits.
// Interface as in the brief of issue 22's helper H1, plus: uploadsUrl, downloadsUrl, model,
// seed(), requests.all/filter, limits.primary, and the `now` option (the model's clock).
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimits } from './limits.js';
import { GitHubModel, ModelError, type RepositoryModel, type SettingsInput } from './model.js';
import type { Router } from './router.js';
import { apiRoutes, BadRequest, uploadRoutes } from './routes.js';
import { seedRepository, type SeedOptions } from './seed.js';

export type Listener = 'api' | 'uploads' | 'downloads';

export interface LoggedRequest {
  listener: Listener;
  method: string;
  /** Path with the query string. */
  path: string;
  status: number;
  /** Whether the request carried an authorization header (whatever its value). */
  authorization: boolean;
}

export type RequestFilter =
  | ((request: LoggedRequest) => boolean)
  | {
      listener?: Listener;
      method?: string;
      /** A string is compared with the path without its query; a RegExp is tested on the path with it. */
      path?: string | RegExp;
      status?: number;
    };

export interface RequestLog {
  readonly all: readonly LoggedRequest[];
  count(filter?: RequestFilter): number;
  filter(filter?: RequestFilter): LoggedRequest[];
  reset(): void;
}

export interface FakeGitHub {
  apiUrl: string;
  uploadsUrl: string;
  downloadsUrl: string;
  token: string;
  model: GitHubModel;
  /** The repository's model; throws if there is none. */
  repo(fullName: string): RepositoryModel;
  addRepository(fullName: string, settings?: SettingsInput): RepositoryModel;
  /** Creates the repository if needed and adds what the options ask for (see seed.ts). */
  seed(fullName: string, options?: SeedOptions): RepositoryModel;
  requests: RequestLog;
  limits: RateLimits;
  stop(): Promise<void>;
}

export interface FakeGitHubOptions {
  token?: string;
  /** The token's user (GET /user; the author of what the API creates). Default 'replay-writer'. */
  login?: string;
  /** The model's clock (updated_at of changes); default Date.now. Rate limits use real time. */
  now?: () => number;
}

const DOCS = 'https://docs.github.com/rest';

function matches(request: LoggedRequest, filter: RequestFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(request);
  if (filter.listener !== undefined && request.listener !== filter.listener) return false;
  if (filter.method !== undefined && request.method !== filter.method.toUpperCase()) return false;
  if (filter.status !== undefined && request.status !== filter.status) return false;
  if (typeof filter.path === 'string' && request.path.split('?')[0] !== filter.path) return false;
  if (filter.path instanceof RegExp && !filter.path.test(request.path)) return false;
  return true;
}

function requestLog(): RequestLog & { push(request: LoggedRequest): void } {
  const all: LoggedRequest[] = [];
  return {
    all,
    push: (request) => all.push(request),
    count: (filter) => all.filter((r) => matches(r, filter)).length,
    filter: (filter) => all.filter((r) => matches(r, filter)),
    reset: () => void all.splice(0),
  };
}

/** `token X` or `bearer X`, as GitHub accepts them. */
function carriesToken(header: string | undefined, token: string): boolean {
  const found = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? '');
  return found !== null && found[1] === token;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body?: unknown,
): void {
  let bytes: Buffer | undefined;
  if (Buffer.isBuffer(body)) bytes = body;
  else if (body !== undefined) {
    bytes = Buffer.from(JSON.stringify(body));
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  response.writeHead(status, { ...headers, 'content-length': String(bytes?.length ?? 0) });
  response.end(bytes);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const token = options.token ?? 'ghs_faketoken';
  const login = options.login ?? 'replay-writer';
  const model = new GitHubModel(options.now);
  const limits = new RateLimits();
  const log = requestLog();
  // The signature of download URLs: only redirects made by this fake lead to bytes.
  const signature = randomBytes(12).toString('hex');

  const apiServer = createServer();
  const uploadsServer = createServer();
  const downloadsServer = createServer();
  const [apiUrl, uploadsUrl, downloadsUrl] = await Promise.all([
    listen(apiServer),
    listen(uploadsServer),
    listen(downloadsServer),
  ]);
  const origins = { api: apiUrl, uploads: uploadsUrl };
  const downloadUrl = (assetId: number): string => {
    const { release } = findAsset(assetId);
    return `${downloadsUrl}/release-assets/${release.id}/${assetId}?sig=${signature}`;
  };
  const findAsset = (assetId: number) => {
    for (const repo of model.all()) {
      try {
        return repo.asset(assetId);
      } catch {
        // not in this repository
      }
    }
    throw new ModelError(404, 'Not Found');
  };

  /** The token, then the rate limits, then the route: GitHub's order. */
  const restHandler =
    (listener: Listener, router: Router) =>
    async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
      const body = await readBody(request);
      const method = request.method ?? 'GET';
      const path = request.url ?? '/';
      const url = new URL(path, listener === 'api' ? apiUrl : uploadsUrl);
      const reply = (status: number, payload?: unknown, headers: Record<string, string> = {}): void => {
        log.push({
          listener,
          method,
          path,
          status,
          authorization: request.headers.authorization !== undefined,
        });
        send(
          response,
          status,
          { ...limits.headers(), 'x-github-media-type': 'github.v3; format=json', ...headers },
          payload,
        );
      };
      if (!carriesToken(request.headers.authorization, token)) {
        reply(401, { message: 'Bad credentials', documentation_url: DOCS });
        return;
      }
      const refusal = limits.take();
      if (refusal) {
        reply(refusal.status, refusal.body, refusal.headers);
        return;
      }
      const route = router.match(method, url.pathname);
      if (!route) {
        reply(404, { message: 'Not Found', documentation_url: DOCS });
        return;
      }
      try {
        const answer = route.handler({ method, url, params: route.params, headers: request.headers, body });
        if (method !== 'GET' || answer.status !== 200 || Buffer.isBuffer(answer.body)) {
          reply(answer.status, answer.body, answer.headers);
          return;
        }
        // Conditional requests: a 304 does not count against the primary limit, as on GitHub.
        const etag = `"${createHash('sha256').update(JSON.stringify(answer.body)).digest('hex').slice(0, 32)}"`;
        if (request.headers['if-none-match'] === etag) {
          limits.refund();
          reply(304, undefined, { etag });
          return;
        }
        reply(answer.status, answer.body, { ...answer.headers, etag });
      } catch (error) {
        if (error instanceof ModelError) {
          const message = error.status === 404 ? 'Not Found' : error.message;
          reply(error.status, {
            message,
            ...(error.errors ? { errors: error.errors } : {}),
            documentation_url: DOCS,
          });
        } else if (error instanceof BadRequest) {
          reply(400, { message: error.message, documentation_url: DOCS });
        } else {
          reply(500, { message: `Fake GitHub failed: ${(error as Error).message}` });
        }
      }
    };

  apiServer.on('request', restHandler('api', apiRoutes(model, origins, downloadUrl, login)));
  uploadsServer.on('request', restHandler('uploads', uploadRoutes(model, origins)));
  downloadsServer.on('request', (request: IncomingMessage, response: ServerResponse) => {
    void readBody(request).then(() => {
      const path = request.url ?? '/';
      const authorization = request.headers.authorization !== undefined;
      const reply = (status: number, headers: Record<string, string>, body?: Buffer | string): void => {
        log.push({ listener: 'downloads', method: request.method ?? 'GET', path, status, authorization });
        send(response, status, headers, typeof body === 'string' ? Buffer.from(body) : body);
      };
      const url = new URL(path, downloadsUrl);
      const found = /^\/release-assets\/\d+\/(\d+)$/.exec(url.pathname);
      if (request.method !== 'GET' || !found || url.searchParams.get('sig') !== signature) {
        reply(403, { 'content-type': 'application/xml' }, '<Error><Code>AccessDenied</Code></Error>');
        return;
      }
      if (authorization) {
        const message = 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter...';
        reply(
          400,
          { 'content-type': 'application/xml' },
          `<Error><Code>InvalidArgument</Code><Message>${message}</Message></Error>`,
        );
        return;
      }
      let asset;
      try {
        asset = findAsset(Number(found[1])).asset;
      } catch {
        reply(404, { 'content-type': 'application/xml' }, '<Error><Code>NoSuchKey</Code></Error>');
        return;
      }
      reply(200, { 'content-type': 'application/octet-stream' }, asset.bytes);
    });
  });

  const servers = [apiServer, uploadsServer, downloadsServer];
  return {
    apiUrl,
    uploadsUrl,
    downloadsUrl,
    token,
    model,
    repo: (fullName) => model.repo(fullName),
    addRepository: (fullName, settings) => model.addRepository(fullName, settings),
    seed: (fullName, seedOptions) => seedRepository(model, fullName, seedOptions),
    requests: log,
    limits,
    stop: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
