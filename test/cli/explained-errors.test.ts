// Errors that say what to do (issue 24 items 4, 5, 9), as a user meets them: the action
// (`node dist/index.js`), its restore sub-action and the CLI (`node dist/cli/index.js`) against a
// local stack whose Worker knows one tenant token, for the tenant `web.app`. A refusal prints the
// Worker's reason and the README Troubleshooting entry that fixes it, a 404 names the bucket, a
// failed record warns once, and the CLI's exit code says which kind of failure it was.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { createTenantToken } from '../../core/worker-api/tenant-token.js';
import { listKeys, makeFixtureTree, runAction, s3Inputs, type RunResult } from '../action/helpers.js';
import { runCli, workerEnv } from './helpers.js';

const ADMIN = randomBytes(24).toString('hex');
const TENANT = 'web.app';
// Granted by the Worker without a bucket named: its default bucket, which this Worker does not bind.
const DEFAULT_BUCKET = 'web-app-github-backup';
const OTHER_BUCKET = 'my-bucket';
const webApp = createTenantToken([TENANT]);
let stack: LocalStack;
let tree: string;
let work: string;

beforeAll(async () => {
  stack = await startLocalStack({
    env: 'test',
    vars: { CLOUDCONNECT: ADMIN, TENANT_TOKENS: `{${webApp.configEntry}}` },
  });
  tree = makeFixtureTree(16 * 1024);
  work = mkdtempSync(join(tmpdir(), 'explained-errors-'));
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  for (const dir of [tree, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const REFUSED = `not allowed to use bucket ${OTHER_BUCKET}`;
const FORBIDDEN_ENTRY = 'Troubleshooting: "Forbidden (403): not allowed to use bucket or tenant"';
const NOT_FOUND_ENTRY = 'Troubleshooting: "Bucket not found (404)"';
const errorLine = (run: RunResult): string =>
  run.stdout.split('\n').find((line) => line.startsWith('::error::')) ?? '';
const warnings = (run: RunResult): string[] =>
  run.stdout.split('\n').filter((line) => line.startsWith('::warning::'));

/** Every entry a message points to is a bold entry of the README's Troubleshooting section. */
function expectReadmeEntries(text: string): void {
  const entries = [...text.matchAll(/Troubleshooting: "([^"]+)"/g)].map((m) => m[1]!);
  expect(entries.length).toBeGreaterThan(0);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Troubleshooting'));
  for (const entry of entries) expect(section).toContain(`**${entry}**`);
}

const backup = (inputs: Record<string, string>, repository = 'acme/web.app'): Promise<RunResult> =>
  runAction({
    repository,
    inputs: { path: tree, 'api-url': stack.url, 'api-token': webApp.token, ...inputs },
  });

describe('the action', () => {
  test("a record refused for the bucket: one warning, with the Worker's reason and the fix", async () => {
    const run = await backup({ ...s3Inputs(stack), tenant: TENANT, bucket: OTHER_BUCKET });
    expect(run.code).toBe(0);
    // The archive is stored; the one warning is the record's, naming why and what to do.
    expect(await listKeys(stack, OTHER_BUCKET, `backups/${TENANT}/`)).toEqual([run.outputs['backup-key']]);
    expect(warnings(run)).toEqual([
      expect.stringMatching(new RegExp(`did not record it: .*403 Forbidden: ${REFUSED}`)),
    ]);
    expect(warnings(run)[0]).toContain(FORBIDDEN_ENTRY);
    expectReadmeEntries(warnings(run)[0]!);
  });

  test('with fail-on-api-error: the failure says why and how to fix it, and no second warning', async () => {
    const run = await backup({
      ...s3Inputs(stack),
      tenant: TENANT,
      bucket: OTHER_BUCKET,
      'fail-on-api-error': 'true',
    });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toMatch(new RegExp(`did not record it: .*${REFUSED}.*fail-on-api-error is true`));
    expect(errorLine(run)).toContain(FORBIDDEN_ENTRY);
    // The failure notification would be refused the same way: not tried, not warned about.
    expect(warnings(run)).toEqual([]);
    expect(run.stdout).toMatch(/No failure notification recorded: the Worker already refused/);
  });

  test("an upload through the Worker refused for the bucket: the failure carries the Worker's reason", async () => {
    const run = await backup({ tenant: TENANT, bucket: OTHER_BUCKET });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toMatch(new RegExp(`403 Forbidden: ${REFUSED}`));
    expect(errorLine(run)).toContain(FORBIDDEN_ENTRY);
    expectReadmeEntries(errorLine(run));
    expect(warnings(run)).toEqual([]);
  });

  test('the default bucket of web.app, not bound: the 404 names the bucket the tenant made', async () => {
    const run = await backup({});
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `Tenant ${TENANT} (from the repository's name), bucket ${DEFAULT_BUCKET} (from the default {tenant}-github-backup)`,
    );
    expect(errorLine(run)).toMatch(
      new RegExp(
        `/${DEFAULT_BUCKET}/upload: 404 Bucket not found: is bucket ${DEFAULT_BUCKET} bound.*\\? See`,
      ),
    );
    expect(errorLine(run)).toContain(NOT_FOUND_ENTRY);
    expectReadmeEntries(errorLine(run));
  });

  test('a repository whose name makes no bucket: the message names the name made and the fix', async () => {
    const run = await backup({}, 'acme/___');
    expect(run.code).toBe(1);
    expect(errorLine(run)).toMatch(
      /Invalid bucket \(from the default \{tenant\}-github-backup\): must be an R2 bucket name.*tenant "___" makes "-github-backup".*set the bucket input.*or a tenant input/,
    );
    expectReadmeEntries(errorLine(run));
  });

  test("the restore sub-action refused for the bucket: the Worker's reason and the fix", async () => {
    const run = await runAction({
      script: 'dist/restore/index.js',
      repository: 'acme/web.app',
      inputs: {
        'api-url': stack.url,
        'api-token': webApp.token,
        bucket: OTHER_BUCKET,
        target: join(work, 'restored'),
      },
    });
    expect(run.code).toBe(1);
    expect(errorLine(run)).toMatch(new RegExp(`403 Forbidden: ${REFUSED}`));
    expect(errorLine(run)).toContain(FORBIDDEN_ENTRY);
    const unnamed = await runAction({
      script: 'dist/restore/index.js',
      repository: 'acme/___',
      inputs: { 'api-url': stack.url, 'api-token': ADMIN, target: join(work, 'restored') },
    });
    expect(errorLine(unnamed)).toMatch(/tenant "___" makes "-github-backup".*set the bucket input/);
  });
});

describe('the CLI: the reason, the fix and an exit code per kind of failure', () => {
  test('3: refused for the bucket, with the reason and the Troubleshooting entry', async () => {
    const run = await runCli(
      ['list', '--tenant', TENANT, '--bucket', OTHER_BUCKET],
      workerEnv(stack, webApp.token),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`403 Forbidden: ${REFUSED}`);
    expect(run.stderr).toContain(FORBIDDEN_ENTRY);
    expectReadmeEntries(run.stderr);
  });

  test('3: not found, naming the default bucket the tenant made', async () => {
    const run = await runCli(['list', '--tenant', TENANT], workerEnv(stack, webApp.token));
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`404 Bucket not found (bucket ${DEFAULT_BUCKET})`);
    expect(run.stderr).toContain(NOT_FOUND_ENTRY);
  });

  test('3: no such backup', async () => {
    const run = await runCli(
      [
        'restore',
        ...['--tenant', TENANT, '--bucket', OTHER_BUCKET, '--backup', '20200101-000000.tar.gz'],
        ...['--target', join(work, 'none')],
      ],
      workerEnv(stack, ADMIN),
    );
    expect(run.stderr).toContain('No backup 20200101-000000.tar.gz');
    expect(run.code).toBe(3);
  });

  test('4: the Worker down', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const run = await runCli(['list', '--tenant', TENANT], {
      R2_BACKUP_API_URL: down,
      R2_BACKUP_API_TOKEN: webApp.token,
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`The Worker at ${down} cannot be reached`);
    expect(run.stderr).toContain('Troubleshooting: "The Worker cannot be reached"');
    expectReadmeEntries(run.stderr);
  });

  test('2: usage, and token create refuses what the Worker could not use', async () => {
    expect((await runCli(['list'])).code).toBe(2);
    const slash = await runCli(['token', 'create', '--tenant', 'web/app']);
    expect([slash.code, slash.stderr]).toEqual([2, expect.stringMatching(/Invalid --tenant: must be/)]);
    const long = 'x'.repeat(50);
    const noBucket = await runCli(['token', 'create', '--tenant', long]);
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toContain(`tenant "${long}" makes "${long}-github-backup"`);
    expect(noBucket.stderr).toMatch(/give --bucket/);
    expectReadmeEntries(noBucket.stderr);
    expect((await runCli(['token', 'create', '--tenant', long, '--bucket', OTHER_BUCKET])).code).toBe(0);
    // Dots and capitals make a valid default bucket: the Worker took this very token above.
    expect((await runCli(['token', 'create', '--tenant', 'Web.App'])).code).toBe(0);
  });

  test('--help lists the exit codes', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const code of [
      '0  success',
      '1  problems found',
      '2  usage',
      '3  not allowed or not found',
      '4  network',
    ])
      expect(help.stdout).toContain(code);
  });
});
