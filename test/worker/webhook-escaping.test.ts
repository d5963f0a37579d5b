// A notification is caller input: the text the Worker sends to Slack must carry no mention,
// no link syntax and no link it did not build itself (issue 17, item 7).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { apiClient, newToken, readJson, seedNotification, type Api } from './helpers.js';

const texts: string[] = [];
let receiver: Server;
let stack: LocalStack;
let api: Api;
const token = newToken();

function handle(request: IncomingMessage, response: ServerResponse): void {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    texts.push((JSON.parse(body) as { text: string }).text);
    response.end('ok');
  });
}

beforeAll(async () => {
  receiver = createServer(handle);
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  stack = await startLocalStack({
    env: 'test',
    vars: { CLOUDCONNECT: token, WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/backup` },
  });
  api = apiClient(stack, token);
});
afterAll(async () => {
  await stack?.stop();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

async function sent(overrides: Record<string, unknown>): Promise<string> {
  texts.length = 0;
  const response = await api.post('/api/github/backup/notify', seedNotification(overrides));
  expect(response.status).toBe(201);
  expect((await readJson(response)).webhook).toBe('sent');
  expect(texts).toHaveLength(1);
  return texts[0]!;
}

/** Every `<...>` of a Slack text: mentions, links and their labels. */
const controls = (text: string): string[] => text.match(/<[^>]*>/g) ?? [];

test('mentions and links in message and branch arrive as text, escaped', async () => {
  const text = await sent({
    branch: '<!channel>',
    message: '<!channel> fix & retry: <https://evil.example|Open the run> <@U0123> <!here>',
  });
  expect(controls(text)).toEqual([]);
  expect(text).toContain('&lt;!channel&gt;'); // the branch, shown
  expect(text).toContain(
    '&lt;!channel&gt; fix &amp; retry: &lt;https://evil.example|Open the run&gt; &lt;@U0123&gt; &lt;!here&gt;',
  );
});

test('a GitHub run URL of the repository becomes a link the Worker built', async () => {
  const text = await sent({ run_url: 'https://github.com/owner/repo/actions/runs/123/attempts/2' });
  expect(controls(text)).toEqual([
    '<https://github.com/owner/repo/actions/runs/123/attempts/2|Open the run>',
  ]);
});

test.each([
  ['another host', 'https://evil.example/owner/repo/actions/runs/1'],
  ['another repository', 'https://github.com/attacker/repo/actions/runs/1'],
  ['link syntax in the path', 'https://github.com/owner/repo/actions/runs/1|Open>'],
  ['a query', 'https://github.com/owner/repo/actions/runs/1?next=https://evil.example'],
  ['a fragment', 'https://github.com/owner/repo/actions/runs/1#https://evil.example'],
  ['another scheme', 'http://github.com/owner/repo/actions/runs/1?evil.example'],
])('a run_url on %s is not linked', async (_what, runUrl) => {
  const text = await sent({ run_url: runUrl });
  expect(controls(text)).toEqual([]);
  expect(text).not.toContain('evil.example');
  expect(text).not.toContain('attacker');
  expect(text).toContain('run URL not shown');
});
