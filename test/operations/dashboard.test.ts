// The dashboard in a real browser (Debian's chromium, driven by puppeteer-core), after real
// backups by dist/index.js: an admin signs in once (the token stays out of the address and
// survives a reload in sessionStorage) and sees every tenant; a tenant token sees only its own;
// a tenant page lists backups newest first, and its copied restore command, run as given,
// restores the tree. Every answer carries the strict CSP and the page breaks none of it.
// The overview and a tenant page show the retention in force (the Worker's RETENTION_POLICIES
// and MIN_RETENTION_DAYS lock, or that none applies), and each record's signature status.
// Screenshots are saved under docs/ for the README.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { ROOT, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { COMMIT, aws, makeFixtureTree, runAction, s3Inputs } from '../action/helpers.js';
import { fullEnv } from '../cli/helpers.js';
import { newToken } from '../worker/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const BUCKET = 'my-bucket';
const adminToken = newToken();
const tokenA = createTenantToken(['tenant-a'], [BUCKET]);
// tenant-a has the Worker's policy (keeping every backup made here) and a lock; tenant-b neither.
const RETENTION_POLICIES = { [BUCKET]: { 'tenant-a': { keep_last: 10, keep_daily: 7 } } };
const MIN_RETENTION_DAYS = { 'tenant-a': 30 };
let stack: LocalStack;
let browser: Browser;
let tree: string;
let work: string;
const backups: Record<string, string[]> = { 'tenant-a': [], 'tenant-b': [] };
const cspViolations: string[] = [];

async function backUp(tenant: string): Promise<void> {
  const run = await runAction({
    inputs: {
      ...s3Inputs(stack),
      'api-url': stack.url,
      'api-token': adminToken,
      tenant,
      bucket: BUCKET,
      path: tree,
    },
  });
  expect(run.code).toBe(0);
  backups[tenant]!.unshift(run.outputs['backup-file']!);
}

async function signIn(token: string): Promise<Page> {
  const context = await browser.createBrowserContext(); // its own sessionStorage
  await context.overridePermissions(stack.url, [
    'clipboard-read',
    'clipboard-write',
    'clipboard-sanitized-write',
  ]);
  const page = await context.newPage();
  await page.setViewport({ width: 1400, height: 700 });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  await page.goto(`${stack.url}/`);
  await page.waitForSelector('#login:not([hidden])');
  await page.type('#token', token);
  await page.click('#login button[type=submit]');
  return page;
}

const cells = (page: Page, selector: string): Promise<string[]> =>
  page.$$eval(selector, (nodes) =>
    nodes.map((n) => (n as unknown as { innerText: string }).innerText.trim()),
  );
const text = (page: Page, selector: string): Promise<string | null> =>
  page.$eval(selector, (n) => n.textContent);

beforeAll(async () => {
  stack = await startLocalStack({
    env: 'test',
    vars: {
      CLOUDCONNECT: adminToken,
      TENANT_TOKENS: `{${tokenA.configEntry}}`,
      RETENTION_POLICIES: JSON.stringify(RETENTION_POLICIES),
      MIN_RETENTION_DAYS: JSON.stringify(MIN_RETENTION_DAYS),
    },
  });
  tree = makeFixtureTree(64 * 1024);
  work = mkdtempSync(join(tmpdir(), 'r2-backup-dashboard-'));
  await backUp('tenant-a');
  await new Promise((r) => setTimeout(r, 1100)); // a second backup with a later stamp
  await backUp('tenant-a');
  await backUp('tenant-b');
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  for (const dir of [tree, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test('every answer of the dashboard carries the strict CSP', async () => {
  for (const path of ['/', '/app.js', '/style.css', '/vendor/uplot/uPlot.esm.js']) {
    const response = await fetch(`${stack.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'self'/);
  }
  // API paths never fall through to the files.
  expect((await fetch(`${stack.url}/api/nothing`)).headers.get('content-type')).toMatch(/json/);
});

test('a wrong token is refused on the page', async () => {
  const page = await signIn('not-a-token');
  await page.waitForFunction("document.getElementById('login-error').textContent !== ''");
  expect(await page.$eval('#login-error', (n) => n.textContent)).toContain('refused');
  await page.browserContext().close();
});

test('the admin sees every tenant, signs in once, and restores from a copied command', async () => {
  const page = await signIn(adminToken);
  // The Worker's default bucket first (empty here), then the bucket the admin asks for.
  await page.waitForSelector('#tenants');
  expect(await page.$eval('#bucket', (n) => (n as unknown as { value: string }).value)).toBe(
    'autonomous-coding-agent',
  );
  expect(await cells(page, '#tenants tbody tr td:first-child')).toEqual([]);
  await page.$eval('#bucket', (n) => ((n as unknown as { value: string }).value = ''));
  await page.type('#bucket', BUCKET);
  await page.click('#bucket-form button[type=submit]');
  await page.waitForSelector('#tenants tbody tr');
  expect(await cells(page, '#tenants tbody tr td:first-child')).toEqual(['tenant-a', 'tenant-b']);
  expect(await cells(page, '#tenants tbody tr td:nth-child(2)')).toEqual(['ok', 'ok']);
  expect(await cells(page, '#tenants tbody tr td:nth-child(7)')).toEqual(['2', '1']);
  expect(await cells(page, '#tenants tbody tr td.retention')).toEqual([
    'keep-last 10, keep-daily 7; locked 30 days',
    'none',
  ]);
  expect(page.url()).not.toContain(adminToken);
  await page.screenshot({ path: join(ROOT, 'docs/dashboard-overview.png') });

  // Asked once: a reload keeps the session.
  await page.reload();
  await page.waitForSelector('#tenants tbody tr');
  expect(await page.$eval('#login', (n) => (n as unknown as { hidden: boolean }).hidden)).toBe(true);

  await page.click('#tenants a[href^="#/tenant/tenant-a"]');
  await page.waitForSelector('#backups tbody tr');
  expect(await cells(page, '#backups tbody tr td:first-child')).toEqual(backups['tenant-a']);
  // Each record as the Worker stored it: signed by it.
  expect(await cells(page, '#backups tbody tr td.record')).toEqual(['verified', 'verified']);
  // The retention in force, from the list's answer.
  expect(await text(page, '#retention-policy dd')).toBe('keep-last 10, keep-daily 7');
  expect(await text(page, '#retention-lock dd')).toBe('backups stored in the last 30 days cannot be deleted');
  // The notifications timeline: each run's success, newest first.
  expect(await cells(page, '#timeline li .badge')).toEqual(['success', 'success']);
  // The size chart (uPlot, vendored into the assets): one point per backup listed.
  await page.waitForSelector('#size-chart .uplot canvas');
  await page.screenshot({ path: join(ROOT, 'docs/dashboard-tenant.png') });

  await page.click('#backups tbody tr:first-child button.copy');
  await page.waitForFunction(
    "document.querySelector('#backups tbody tr button.copy').textContent === 'Copied'",
  );
  const command = String(await page.evaluate('navigator.clipboard.readText()'));
  expect(command).toBe(await page.$eval('#backups tbody tr:first-child code.command', (n) => n.textContent));
  expect(command).toMatch(
    /^r2-backup restore --tenant tenant-a --bucket my-bucket --backup \S+ --target \S+$/,
  );

  // Run as given, in an empty directory.
  const [, ...args] = command.split(' ');
  const into = mkdtempSync(join(work, 'restore-'));
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('R2_')));
  await promisify(execFile)(process.execPath, [join(ROOT, 'dist/cli/index.js'), ...args], {
    cwd: into,
    env: { ...base, ...fullEnv(stack, adminToken) },
  });
  const target = join(into, command.split(' --target ')[1]!);
  expect(readFileSync(join(target, 'src/index.ts'), 'utf8')).toBe(
    readFileSync(join(tree, 'src/index.ts'), 'utf8'),
  );
  await page.browserContext().close();
}, 120_000);

test('a tenant token sees only its tenant', async () => {
  const page = await signIn(tokenA.token);
  await page.waitForSelector('#tenants tbody tr');
  expect(await cells(page, '#tenants tbody tr td:first-child')).toEqual(['tenant-a']);
  // Another tenant's page is refused by the Worker, and says so.
  await page.goto(`${stack.url}/#/tenant/tenant-b?bucket=${BUCKET}`);
  await page.waitForSelector('#view .error');
  expect(await page.$eval('#view .error', (n) => n.textContent)).toContain(
    'not allowed to use tenant tenant-b',
  );
  await page.browserContext().close();
});

test('a tenant without a policy says none applies; a record planted over S3 shows unsigned', async () => {
  // As a holder of S3 keys (or the earlier shell workflow) would write it: no signature.
  const planted = 'tenant-b-20240101-120000.tar.gz';
  const record = join(work, 'planted.json');
  writeFileSync(
    record,
    JSON.stringify({
      tenant: 'tenant-b',
      bucket: BUCKET,
      repo: 'octo-org/tenant-b',
      branch: 'main',
      commit: COMMIT,
      backup_file: planted,
      action: 'upload',
    }),
  );
  await aws(
    stack,
    's3',
    'cp',
    record,
    `s3://${BUCKET}/backups/tenant-b/metadata/${planted}.json`,
    '--only-show-errors',
  );

  const page = await signIn(adminToken);
  await page.waitForSelector('#tenants'); // the first view, before asking for another
  await page.goto(`${stack.url}/#/tenant/tenant-b?bucket=${BUCKET}`);
  await page.waitForSelector(`#backups tbody tr[data-backup="${planted}"]`);
  expect(await cells(page, '#backups tbody tr td:first-child')).toEqual([...backups['tenant-b']!, planted]);
  expect(await cells(page, '#backups tbody tr td.record')).toEqual(['verified', 'unsigned']);
  expect(await text(page, '#retention-policy dd')).toBe('none: nothing is deleted automatically');
  expect(await text(page, '#retention-lock dd')).toBe('none');
  await page.browserContext().close();
}, 60_000);

test('the page broke no rule of its CSP', () => {
  expect(cspViolations).toEqual([]);
  expect(existsSync(join(ROOT, 'docs/dashboard-overview.png'))).toBe(true);
});
