// A git server over smart HTTP, as GitHub serves repositories (and wikis): git's own
// http-backend (CGI) behind node:http on loopback, serving the bare repositories under `root`.
// Every request must carry the basic credentials `x-access-token:{token}` that actions/checkout
// (and include-wiki) send as a header; others get 401. Requests are logged for the tests.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  url: string;
  requests: { path: string; authorized: boolean }[];
  stop(): Promise<void>;
}

const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

export async function startGitHttpServer(root: string, token: string): Promise<GitHttpServer> {
  const expected = Buffer.from(`x-access-token:${token}`).toString('base64');
  const requests: GitHttpServer['requests'] = [];
  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    // The scheme is case-insensitive (actions/checkout writes `basic`).
    const [scheme, credentials] = (request.headers.authorization ?? '').split(' ');
    const authorized = scheme?.toLowerCase() === 'basic' && credentials === expected;
    requests.push({ path: url.pathname, authorized });
    if (!authorized) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
      return;
    }
    const cgi = spawn(HTTP_BACKEND, [], {
      env: {
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: request.method ?? 'GET',
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        ...(request.headers['content-encoding'] && {
          HTTP_CONTENT_ENCODING: request.headers['content-encoding'],
        }),
        REMOTE_USER: 'x-access-token',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    request.pipe(cgi.stdin);
    // The CGI answer: headers, a blank line, the body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const [name, ...rest] = line.split(':');
        const value = rest.join(':').trim();
        if (name!.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else response.setHeader(name!, value);
      }
      response.writeHead(status);
      response.write(head.subarray(end + 4));
    });
    cgi.on('close', () => response.end());
  };
  const server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
