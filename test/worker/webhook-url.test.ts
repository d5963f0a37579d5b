// worker/src/webhook.ts: WEBHOOK_URL passes the one URL check (common/validate.ts checkHttpUrl)
// before anything is sent; a refused URL is reported by its rule, never quoted (for Slack the
// URL itself is a credential). Pure logic: fetch and console.warn are stood in for.
import type { BackupNotification } from '../../common/metadata.js';
import type { Env } from '../../worker/src/env.js';
import { forwardNotification } from '../../worker/src/webhook.js';

const SECRET = 'T0KEN-in-the-url';
const notification = {
  tenant: 'my-repo',
  bucket: 'my-bucket',
  repo: 'owner/repo',
  branch: 'main',
  commit: 'a'.repeat(40),
  status: 'success',
} as BackupNotification;

const realFetch = globalThis.fetch;
const realWarn = console.warn;
let fetched: string[];
let warnings: string[];
beforeEach(() => {
  fetched = [];
  warnings = [];
  globalThis.fetch = (async (input: string | URL | Request) => {
    fetched.push(String(input));
    return new Response('ok');
  }) as typeof fetch;
  console.warn = (message: string) => warnings.push(message);
});
afterEach(() => {
  globalThis.fetch = realFetch;
  console.warn = realWarn;
});

const forward = (url: string) => forwardNotification({ WEBHOOK_URL: url } as Env, notification);

test.each([[`https://hooks.example/services/${SECRET}`], [`http://127.0.0.1:8080/hooks/${SECRET}`]])(
  '%s is posted to',
  async (url) => {
    expect(await forward(url)).toBe('sent');
    expect(fetched).toEqual([url]);
    expect(warnings).toEqual([]);
  },
);

test.each([
  [
    `https://user:${SECRET}@hooks.example/x`,
    /^webhook not sent: Invalid WEBHOOK_URL: must not contain credentials/,
  ],
  [`ftp://hooks.example/${SECRET}`, /^webhook not sent: Invalid WEBHOOK_URL: must be an http\(s\) URL/],
  [`hooks.example/${SECRET}`, /^webhook not sent: Invalid WEBHOOK_URL: must be an http\(s\) URL/],
])('%s is refused before sending, by its rule, unquoted', async (url, warning) => {
  expect(await forward(url)).toBe('failed');
  expect(fetched).toEqual([]);
  expect(warnings).toEqual([expect.stringMatching(warning)]);
  expect(warnings.join('\n')).not.toContain(SECRET);
});

test('no WEBHOOK_URL: skipped', async () => {
  expect(await forwardNotification({} as Env, notification)).toBe('skipped');
  expect(fetched).toEqual([]);
});
