// The fake's rate limits as a client sees them: x-ratelimit-* on every answer, the primary limit
// refusing until its reset and then recovering, and secondary limits with retry-after.
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub();
  github.seed('acme/limits', { issues: 3 });
});
afterAll(() => github.stop());
beforeEach(() => github.requests.reset());

const get = (path = '/repos/acme/limits/issues'): Promise<Response> =>
  fetch(`${github.apiUrl}${path}`, { headers: { authorization: `token ${github.token}` } });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('every answer carries the rate-limit headers; remaining counts down', async () => {
  github.limits.setPrimary({ limit: 50, remaining: 20, resetInSeconds: 600 });
  const first = await get();
  const second = await get('/repos/acme/limits');
  const missing = await get('/repos/acme/none');
  expect(missing.status).toBe(404);
  for (const [answer, remaining] of [
    [first, 19],
    [second, 18],
    [missing, 17],
  ] as const) {
    expect(answer.headers.get('x-ratelimit-limit')).toBe('50');
    expect(answer.headers.get('x-ratelimit-remaining')).toBe(String(remaining));
    expect(answer.headers.get('x-ratelimit-used')).toBe(String(50 - remaining));
    expect(answer.headers.get('x-ratelimit-resource')).toBe('core');
    const reset = Number(answer.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 590);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 600);
  }
});

test('primary limit: 403 with remaining 0 until the reset, then the full limit again', async () => {
  github.limits.setPrimary({ limit: 7, remaining: 1, resetInSeconds: 1 });
  expect((await get()).status).toBe(200);
  const refused = await get();
  expect(refused.status).toBe(403);
  expect(await refused.json()).toMatchObject({ message: 'API rate limit exceeded for installation ID 1.' });
  expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
  const reset = Number(refused.headers.get('x-ratelimit-reset'));
  expect((await get()).status).toBe(403);

  await sleep(reset * 1000 - Date.now() + 20);
  const recovered = await get();
  expect(recovered.status).toBe(200);
  expect(recovered.headers.get('x-ratelimit-remaining')).toBe('6');
  expect(Number(recovered.headers.get('x-ratelimit-reset'))).toBeGreaterThan(reset);
  expect(github.requests.all.map((r) => r.status)).toEqual([200, 403, 403, 200]);
  expect(github.limits.primary.remaining).toBe(6);
});

test('primary limit with 429 instead of 403', async () => {
  github.limits.setPrimary({ limit: 5, remaining: 0, resetInSeconds: 60, status: 429 });
  const refused = await get();
  expect(refused.status).toBe(429);
  expect(await refused.json()).toMatchObject({ message: 'API rate limit exceeded for installation ID 1.' });
  github.limits.setPrimary({ limit: 5000, remaining: 5000, resetInSeconds: 3600 });
  expect((await get()).status).toBe(200);
});

test('secondaryOnce: the next n requests get 403 with retry-after, then requests go through', async () => {
  github.limits.setPrimary({ limit: 5000, remaining: 5000, resetInSeconds: 3600 });
  github.limits.secondaryOnce(2, 7);
  const answers = [await get(), await get(), await get()];
  expect(answers.map((a) => a.status)).toEqual([403, 403, 200]);
  expect(answers.map((a) => a.headers.get('retry-after'))).toEqual(['7', '7', null]);
  expect(await answers[0]!.json()).toMatchObject({
    message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  });
  expect(github.requests.count({ status: 403 })).toBe(2);

  github.limits.secondaryOnce(1, 2, 429);
  const refused = await get();
  expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '2']);
  expect((await get()).status).toBe(200);
});

test('a conditional request answered 304 does not use the limit', async () => {
  github.limits.setPrimary({ limit: 100, remaining: 100, resetInSeconds: 600 });
  const first = await get('/repos/acme/limits/labels');
  const etag = first.headers.get('etag')!;
  expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
  const again = await fetch(`${github.apiUrl}/repos/acme/limits/labels`, {
    headers: { authorization: `token ${github.token}`, 'if-none-match': etag },
  });
  expect(again.status).toBe(304);
  expect(again.headers.get('x-ratelimit-remaining')).toBe('99');
  github.repo('acme/limits').addLabel({ name: 'new' });
  const changed = await fetch(`${github.apiUrl}/repos/acme/limits/labels`, {
    headers: { authorization: `token ${github.token}`, 'if-none-match': etag },
  });
  expect(changed.status).toBe(200);
  expect(changed.headers.get('x-ratelimit-remaining')).toBe('98');
  expect(changed.headers.get('etag')).not.toBe(etag);
});
