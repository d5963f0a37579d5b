// Notifications forwarded to a Slack-compatible receiver on loopback, and what happens when
// it answers an error, is slow, or is down: the notification is stored either way.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { apiClient, aws, newToken, readJson, seedNotification, type Api } from './helpers.js';

type Mode = 'ok' | 'error' | 'slow';
let mode: Mode = 'ok';
const received: unknown[] = [];
let arrived: () => void = () => undefined;
/** Settles when the receiver has the next request in full. */
const nextArrival = (): Promise<void> => new Promise((resolve) => (arrived = resolve));
/** The slow receiver's answers: held until the test has the Worker's answer (or, should the
 *  Worker wait for them, long past its timeout, so that the test fails instead of hanging). */
const held = new Set<ServerResponse>();
const HELD_MS = 30_000;
let receiver: Server;
let stack: LocalStack;
let api: Api;
const token = newToken();
const TIMEOUT_MS = 2000;

function handle(request: IncomingMessage, response: ServerResponse): void {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    received.push({ contentType: request.headers['content-type'], body: JSON.parse(body) });
    arrived();
    if (mode === 'ok') response.end('ok');
    else if (mode === 'error') response.writeHead(500).end('boom');
    else {
      held.add(response);
      const late = setTimeout(() => release(response), HELD_MS);
      response.once('close', () => clearTimeout(late));
    }
  });
}

function release(response: ServerResponse): void {
  held.delete(response);
  response.end('late');
}

beforeAll(async () => {
  receiver = createServer(handle);
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  stack = await startLocalStack({
    env: 'test',
    vars: {
      CLOUDCONNECT: token,
      WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/backup`,
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    },
  });
  api = apiClient(stack, token);
});
afterAll(async () => {
  await stack?.stop();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

async function notify(
  overrides: Record<string, unknown> = {},
): Promise<{ status: number; body: Awaited<ReturnType<typeof readJson>> }> {
  const response = await api.post('/api/github/backup/notify', seedNotification(overrides));
  return { status: response.status, body: await readJson(response) };
}

test('forwards a Slack-compatible {text} message', async () => {
  mode = 'ok';
  received.length = 0;
  const arrival = nextArrival();
  const { status, body } = await notify({
    status: 'failure',
    backup_file: 'my-repo-20250101-120000.tar.gz',
    message: 'tar exited 2',
    run_url: 'https://github.com/owner/repo/actions/runs/1',
  });
  expect(status).toBe(201);
  expect(body.webhook).toBe('sent');
  await arrival;
  expect(received).toHaveLength(1);
  const { contentType, body: message } = received[0] as { contentType: string; body: { text: string } };
  expect(contentType).toBe('application/json');
  expect(Object.keys(message)).toEqual(['text']);
  expect(message.text).toContain('failure');
  expect(message.text).toContain('owner/repo');
  expect(message.text).toContain('my-repo-20250101-120000.tar.gz');
  expect(message.text).toContain('tar exited 2');
  expect(message.text).toContain('https://github.com/owner/repo/actions/runs/1');
});

test.each([
  ['answers 500', 'error'],
  ['is slower than the timeout', 'slow'],
] as const)('a receiver that %s: stored anyway, webhook "failed"', async (_what, m) => {
  mode = m;
  received.length = 0;
  const arrival = nextArrival();
  const { status, body } = await notify();
  await arrival;
  // The Worker answered without waiting for a slow receiver: its answer is still held.
  const unanswered = held.size;
  for (const response of held) release(response);
  expect(status).toBe(201);
  expect(body.webhook).toBe('failed');
  expect(received).toHaveLength(1); // it was tried
  expect(unanswered).toBe(m === 'slow' ? 1 : 0);
  expect(JSON.parse(await aws(stack, 's3', 'cp', `s3://my-bucket/${body.key}`, '-'))).toEqual(
    body.notification,
  );
});

test('a receiver that is down: stored anyway, webhook "failed"', async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  const { status, body } = await notify({ status: 'cancelled' });
  expect(status).toBe(201);
  expect(body.webhook).toBe('failed');
  expect(JSON.parse(await aws(stack, 's3', 'cp', `s3://my-bucket/${body.key}`, '-')).status).toBe(
    'cancelled',
  );
  receiver.listen(0, '127.0.0.1'); // so afterAll can close it
});
