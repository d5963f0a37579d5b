import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { seedBackup } from './helpers.js';

// This stack has no CLOUDCONNECT secret: health answers, everything else refuses.
let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ env: 'test' });
});
afterAll(async () => {
  await stack?.stop();
});

test('health answers without auth and without data', async () => {
  const response = await fetch(`${stack.url}/api/health`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ success: true, status: 'ok' });
});

test.each([
  ['POST', '/api/github/backup'],
  ['POST', '/api/github/backup/notify'],
  ['GET', '/api/github/backup/list'],
  ['GET', '/api/github/backup/my-repo/latest'],
  ['GET', '/api/r2/buckets/my-bucket/download?key=backups%2Fmy-repo%2Fx'],
])('without a configured secret %s %s is 401 for any token', async (method, path) => {
  for (const authorization of ['Bearer githubr2backup', 'Bearer ', 'Bearer undefined']) {
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization },
      body: method === 'POST' ? JSON.stringify(seedBackup()) : undefined,
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ success: false, error: 'Unauthorized' });
  }
});
