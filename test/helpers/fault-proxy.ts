// A fault-injecting HTTP proxy on loopback, between the action (or the CLI) and the local stack:
// it forwards every request to the stack's port, except those a rule picks, which it stalls,
// slows, answers with 503 + Retry-After, cuts after N bytes, forwards and then drops without
// answering (the server did the work; the answer is lost), or forwards once a test's own step
// (say, replacing the object) is done. Each rule fires `times` times.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** Reads the request, never answers (the socket stays open). */
  | { kind: 'stall' }
  /** Forwards; holds the answer `delayMs`, then sends its body at `bytesPerSecond` (default: at once). */
  | { kind: 'slow'; delayMs: number; bytesPerSecond?: number }
  /** Answers 503 with Retry-After (seconds) without forwarding. */
  | { kind: 'unavailable'; retryAfterSeconds: number; body?: string }
  /** Forwards `bytes` bytes of the request body (direction 'request') or of the answer, then cuts. */
  | { kind: 'cut'; bytes: number; direction: 'request' | 'response' }
  /** Forwards the request and waits for the answer, then drops the connection without answering. */
  | { kind: 'lose-answer' }
  /** Forwards; removes the Date header from the answer (a server the SDK cannot correct its clock by). */
  | { kind: 'no-date' }
  /** Runs `step` (e.g. replaces the object asked for), then forwards. */
  | { kind: 'after'; step: () => Promise<void> };

export interface FaultRule {
  method?: string;
  /** Tested against the path with its query string. */
  url?: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
  /** Matching requests to let through before the first fault (default 0). */
  skip?: number;
}

export interface SeenRequest {
  method: string;
  url: string;
  fault?: Fault['kind'];
  /** The request's Range and If-Match headers, when it had them. */
  range?: string;
  ifMatch?: string;
  /** The status of the answer the client was sent, once it was sent in full. */
  status?: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  /** Every request the proxy got, in order, with the fault it got if any. */
  seen: SeenRequest[];
  add(rule: FaultRule): void;
  /** Settles once `condition` holds for `seen`; checked as each request arrives and each answer goes. */
  until(condition: (seen: SeenRequest[]) => boolean): Promise<void>;
  clear(): void;
  close(): Promise<void>;
}

/** The local S3 endpoint of a stack behind `proxy`: same path, the proxy's port. */
export const throughProxy = (url: string, proxy: FaultProxy): string => {
  const parsed = new URL(url);
  parsed.port = String(proxy.port);
  return parsed.toString().replace(/\/$/, '');
};

export async function startFaultProxy(upstreamPort: number): Promise<FaultProxy> {
  const rules: (FaultRule & { used: number; skipped: number })[] = [];
  const seen: SeenRequest[] = [];
  const waiting = new Set<{ condition: (seen: SeenRequest[]) => boolean; resolve: () => void }>();
  const changed = (): void => {
    for (const wait of waiting) {
      if (!wait.condition(seen)) continue;
      waiting.delete(wait);
      wait.resolve();
    }
  };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const pick = (request: IncomingMessage): Fault | undefined => {
    for (const rule of rules) {
      if (rule.method && rule.method !== request.method) continue;
      if (rule.url && !rule.url.test(request.url ?? '')) continue;
      if (rule.skipped < (rule.skip ?? 0)) {
        rule.skipped++;
        continue;
      }
      if (rule.used >= (rule.times ?? 1)) continue;
      rule.used++;
      return rule.fault;
    }
    return undefined;
  };

  const forward = (
    request: IncomingMessage,
    onAnswer: (answer: IncomingMessage) => void,
    cutRequestAfter?: number,
  ): void => {
    const upstream = httpRequest({
      host: '127.0.0.1',
      port: upstreamPort,
      method: request.method,
      path: request.url,
      headers: request.headers,
    });
    upstream.on('response', onAnswer);
    upstream.on('error', () => request.socket.destroy());
    if (cutRequestAfter === undefined) {
      request.pipe(upstream);
      return;
    }
    let sent = 0;
    request.on('data', (chunk: Buffer) => {
      const room = cutRequestAfter - sent;
      if (room <= 0) return;
      upstream.write(chunk.subarray(0, room));
      sent += Math.min(room, chunk.length);
      if (sent >= cutRequestAfter) {
        request.socket.destroy();
        upstream.destroy();
      }
    });
  };

  const relay = (answer: IncomingMessage, response: ServerResponse, fault?: Fault): void => {
    const headers = { ...answer.headers };
    if (fault?.kind === 'no-date') {
      delete headers.date;
      response.sendDate = false;
    }
    response.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
    if (fault?.kind === 'cut' && fault.direction === 'response') {
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        const room = fault.bytes - sent;
        if (room <= 0) return;
        sent += chunk.length;
        if (sent < fault.bytes) return void response.write(chunk);
        answer.destroy();
        // Cut once the last byte has left (a client may still lose what it had not read yet).
        response.write(chunk.subarray(0, room), () => response.socket?.destroy());
      });
      return;
    }
    if (fault?.kind === 'slow' && fault.bytesPerSecond) {
      const rate = fault.bytesPerSecond;
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        let rest = Buffer.concat(chunks);
        const tick = (): void => {
          if (rest.length === 0) return void response.end();
          const slice = Math.max(1, Math.floor(rate / 10));
          response.write(rest.subarray(0, slice));
          rest = rest.subarray(slice);
          const timer = setTimeout(tick, 100);
          timers.add(timer);
        };
        tick();
      });
      return;
    }
    answer.pipe(response);
  };

  const server = createServer((request, response) => {
    const fault = pick(request);
    const record: SeenRequest = { method: request.method ?? '', url: request.url ?? '', fault: fault?.kind };
    if (request.headers.range) record.range = request.headers.range;
    if (request.headers['if-match']) record.ifMatch = request.headers['if-match'];
    seen.push(record);
    response.on('finish', () => {
      record.status = response.statusCode;
      changed();
    });
    changed();
    switch (fault?.kind) {
      case 'stall':
        request.resume();
        return;
      case 'unavailable': {
        request.resume();
        const body =
          fault.body ??
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>Reduce your request rate.</Message></Error>';
        response.writeHead(503, {
          'retry-after': String(fault.retryAfterSeconds),
          'content-type': body.startsWith('{') ? 'application/json' : 'application/xml',
          'content-length': String(Buffer.byteLength(body)),
        });
        response.end(body);
        return;
      }
      case 'lose-answer':
        forward(request, (answer) => {
          answer.resume();
          answer.on('end', () => request.socket.destroy());
        });
        return;
      case 'cut':
        if (fault.direction === 'request') {
          forward(request, (answer) => relay(answer, response), fault.bytes);
          return;
        }
        forward(request, (answer) => relay(answer, response, fault));
        return;
      case 'after':
        fault.step().then(
          () => forward(request, (answer) => relay(answer, response)),
          () => request.socket.destroy(),
        );
        return;
      case 'slow':
        forward(request, (answer) => {
          const timer = setTimeout(() => relay(answer, response, fault), fault.delayMs);
          timers.add(timer);
        });
        return;
      default:
        forward(request, (answer) => relay(answer, response, fault));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    add: (rule) => void rules.push({ ...rule, used: 0, skipped: 0 }),
    until: (condition) =>
      new Promise<void>((resolve) => {
        if (condition(seen)) return resolve();
        waiting.add({ condition, resolve });
      }),
    clear: () => {
      rules.length = 0;
      seen.length = 0;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
