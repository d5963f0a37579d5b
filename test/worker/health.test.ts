import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';

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
