// Serves one recorded @octokit/fixtures scenario (normalized-fixture.json): each request that
// was recorded gets its recorded status, headers and body. Every origin of the scenario
// (https://api.github.com, https://uploads.github.com, https://codeload.github.com...) gets a
// listener of its own, and those origins are rewritten to the listeners in headers (Link,
// Location) and bodies. Requests match by origin, method, path and query (parameters in any
// order), each recorded answer once, in recorded order among equal requests. Anything else gets
// 500 with a message naming it.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

const API = 'https://api.github.com';
const UPLOADS = 'https://uploads.github.com';
/** `https://api.github.com:443` -> `https://api.github.com`. */
const originOf = (scope: string): string => new URL(scope).origin;

interface Recorded {
  scope: string;
  method: string;
  path: string;
  status: number;
  response: unknown;
  headers: Record<string, string | number>;
  responseIsBinary?: boolean;
}

export interface ReplayedRequest {
  method: string;
  /** Path with the query, as the client sent it. */
  path: string;
  /** The recorded origin the listener stands for, e.g. https://api.github.com. */
  origin: string;
  status: number;
  authorization: boolean;
}

export interface FixtureReplay {
  /** Stands for https://api.github.com (Octokit's baseUrl). */
  apiUrl: string;
  /** Stands for https://uploads.github.com. */
  uploadsUrl: string;
  /** Each recorded origin and the local URL that stands for it. */
  origins: Record<string, string>;
  /** Recorded requests not made yet, as `METHOD /path?query (origin)`. */
  pending(): string[];
  /** Every request the replay got, in order. */
  requests: ReplayedRequest[];
  stop(): Promise<void>;
}

/** The normalized fixture of a scenario of api.github.com, e.g. 'paginate-issues'. */
export function scenarioPath(name: string): string {
  const fixtures = dirname(createRequire(import.meta.url).resolve('@octokit/fixtures/package.json'));
  return join(fixtures, 'scenarios', 'api.github.com', name, 'normalized-fixture.json');
}

/** Method, path and sorted query: what a request must match. */
function requestKey(origin: string, method: string, pathWithQuery: string): string {
  const url = new URL(pathWithQuery, 'http://x');
  const query = [...url.searchParams].sort(([a], [b]) => a.localeCompare(b));
  return `${origin} ${method.toUpperCase()} ${url.pathname}?${new URLSearchParams(query).toString()}`;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startFixtureReplay(scenario: string): Promise<FixtureReplay> {
  const recorded = JSON.parse(readFileSync(scenarioPath(scenario), 'utf8')) as Recorded[];
  const used = recorded.map(() => false);
  const requests: ReplayedRequest[] = [];
  const servers = new Map<string, Server>();
  const origins: Record<string, string> = {};
  for (const origin of new Set([API, UPLOADS, ...recorded.map((r) => originOf(r.scope))])) {
    const server = createServer();
    servers.set(origin, server);
    origins[origin] = await listen(server);
  }
  const rewrite = (text: string): string =>
    Object.entries(origins).reduce((out, [origin, local]) => out.replaceAll(origin, local), text);

  const handler =
    (origin: string) =>
    (request: IncomingMessage, response: ServerResponse): void => {
      request.resume();
      request.on('end', () => {
        const method = request.method ?? 'GET';
        const path = request.url ?? '/';
        const key = requestKey(origin, method, path);
        const index = recorded.findIndex(
          (r, i) => !used[i] && requestKey(originOf(r.scope), r.method, r.path) === key,
        );
        const answer = (status: number, headers: Record<string, string>, body: Buffer): void => {
          requests.push({
            method,
            path,
            origin,
            status,
            authorization: request.headers.authorization !== undefined,
          });
          response.writeHead(status, { ...headers, 'content-length': String(body.length) });
          response.end(body);
        };
        if (index < 0) {
          const message = `Not in the recorded scenario ${scenario}: ${method} ${path} (${origin})`;
          answer(500, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ message })));
          return;
        }
        used[index] = true;
        const r = recorded[index]!;
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(r.headers)) {
          if (name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue;
          headers[name] = rewrite(String(value));
        }
        let body: Buffer;
        if (r.status === 204 || r.response === '' || r.response === undefined) body = Buffer.alloc(0);
        else if (r.responseIsBinary) body = Buffer.from(String(r.response), 'hex');
        else if (typeof r.response === 'string') body = Buffer.from(rewrite(r.response));
        else body = Buffer.from(rewrite(JSON.stringify(r.response)));
        answer(r.status, headers, body);
      });
    };
  for (const [origin, server] of servers) server.on('request', handler(origin));

  return {
    apiUrl: origins[API]!,
    uploadsUrl: origins[UPLOADS]!,
    origins,
    requests,
    pending: () =>
      recorded
        .filter((_, i) => !used[i])
        .map((r) => `${r.method.toUpperCase()} ${r.path} (${originOf(r.scope)})`),
    stop: async () => {
      await Promise.all(
        [...servers.values()].map(
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
