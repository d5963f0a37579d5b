// Missed-backup and failing alarms from the cron (`wrangler dev --test-scheduled`), heard by a
// Slack-compatible receiver on loopback: one message when a tenant becomes stale or failing,
// none while it stays so, one when it recovers; a receiver that was down hears of it next run.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { storeBackup } from '../retention/helpers.js';
import { apiClient, aws, COMMIT, newToken, type Api } from '../worker/helpers.js';

const BUCKET = 'my-bucket';
const TOKEN = newToken();
const STALE_SECONDS = 8;
let receiver: Server;
let down = false;
const texts: string[] = [];
let stack: LocalStack;
let admin: Api;

/** The alarms among what the receiver got (notifications are forwarded there too). */
const alarms = (): string[] => texts.filter((t) => /Backups (missed|failing|recovered)/.test(t));

const runCron = async (): Promise<void> => {
  const response = await fetch(`${stack.url}/__scheduled?cron=${encodeURIComponent('17 3 * * *')}`);
  expect(response.status).toBe(200);
};

const fail = async (tenant: string): Promise<void> => {
  const response = await admin.post('/api/github/backup/notify', {
    tenant,
    bucket: BUCKET,
    repo: `acme/${tenant}`,
    branch: 'main',
    commit: COMMIT,
    status: 'failure',
  });
  expect(response.status).toBe(201);
};

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (down) return void response.writeHead(503).end('down');
      texts.push((JSON.parse(body) as { text: string }).text);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  stack = await startLocalStack({
    env: 'test',
    testScheduled: true,
    vars: {
      CLOUDCONNECT: TOKEN,
      WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/backup`,
      STALE_AFTER_HOURS: JSON.stringify({ '*': 48, late: STALE_SECONDS / 3600 }),
      FAILING_AFTER: '2',
    },
  });
  admin = apiClient(stack, TOKEN);
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

test('stale once, quiet while stale, recovered once', async () => {
  await storeBackup(admin, { tenant: 'late', bucket: BUCKET, backupFile: '20260101-120000.tar.gz' });
  const stored = Date.now();
  await runCron();
  expect(alarms()).toEqual([]);

  await new Promise((r) => setTimeout(r, Math.max(0, stored + (STALE_SECONDS + 1) * 1000 - Date.now())));
  await runCron();
  expect(alarms()).toHaveLength(1);
  expect(alarms()[0]).toMatch(
    /Backups missed: tenant late \(bucket my-bucket\) is stale: newest backup 20260101-120000\.tar\.gz, [\d.]+ hours old \(more than 0\.00222/,
  );
  // The state the cron keeps, outside the tenant's folder.
  expect(JSON.parse(await aws(stack, 's3', 'cp', `s3://${BUCKET}/alarms/late.json`, '-'))).toMatchObject({
    state: 'stale',
  });
  await runCron();
  expect(alarms()).toHaveLength(1);

  await storeBackup(admin, { tenant: 'late', bucket: BUCKET, backupFile: '20260102-120000.tar.gz' });
  await runCron();
  expect(alarms()).toHaveLength(2);
  expect(alarms()[1]).toMatch(
    /Backups recovered: tenant late \(bucket my-bucket\) is no longer stale: newest backup 20260102-120000\.tar\.gz/,
  );
  await runCron();
  expect(alarms()).toHaveLength(2);
}, 120_000);

test('failing after FAILING_AFTER failures; a receiver that was down hears of it next run', async () => {
  await storeBackup(admin, { tenant: 'flaky', bucket: BUCKET, backupFile: '20260101-120000.tar.gz' });
  await fail('flaky');
  await runCron();
  const before = alarms().length;
  expect(alarms().filter((t) => t.includes('tenant flaky'))).toEqual([]);
  await fail('flaky');
  down = true;
  await runCron();
  down = false;
  expect(alarms()).toHaveLength(before);
  await runCron();
  expect(alarms().slice(before)).toEqual([
    expect.stringMatching(/Backups failing: tenant flaky \(bucket my-bucket\): its last 2 runs failed/),
  ]);
  await runCron();
  expect(alarms()).toHaveLength(before + 1);
}, 120_000);
