// `npm run demo`: the whole path on this machine. Starts the Worker and local R2 (on PORT when
// set), runs the bundled action (dist/index.js) on this repository exactly as the GitHub runner
// would, asks the Worker for the tenant's backups, restores the new one with the CLI
// (dist/cli/index.js) and compares it with the checkout, then prints the commands to go on with.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_S3_CREDENTIALS, ROOT, startLocalStack } from './local-stack.ts';

const TENANT = 'autonomous-coding-agent';
const BUCKET = 'autonomous-coding-agent';

const git = (...args: string[]): string => {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

for (const bundle of ['dist/index.js', 'dist/cli/index.js']) {
  if (!existsSync(join(ROOT, bundle))) {
    console.error(`${bundle} is missing: run \`npm run build\` first.`);
    process.exit(1);
  }
}

/** PORT, when set, is where the stack listens (as for `npm run dev`). */
function portOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    console.error(`Invalid PORT: ${JSON.stringify(value)} is not a port number (1-65535).`);
    process.exit(2);
  }
  return port;
}
const port = portOf(process.env.PORT);

/** Entries that are not directories (files and symbolic links), as the action's file-count. */
function countFiles(directory: string): number {
  let count = 0;
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    count += lstatSync(path).isDirectory() ? countFiles(path) : 1;
  }
  return count;
}

// Files that no build or test rewrites: compared byte for byte with the checkout.
const SPOT_CHECKED = ['LICENSE', 'package.json', 'worker/wrangler.toml'];

// The Worker's admin secret for this run only: random, handed to the stack and the action, never printed.
const token = randomBytes(24).toString('hex');
console.log('Starting the Worker (workerd) and local R2 ...');
const stack = await startLocalStack({ env: 'test', vars: { CLOUDCONNECT: token }, port });
const work = mkdtempSync(join(tmpdir(), 'r2-backup-demo-'));
let exitCode = 0;
try {
  const commit = git('rev-parse', 'HEAD') || '0'.repeat(40);
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD').replace(/^HEAD$/, 'main') || 'main';
  const repository = `local/${TENANT}`;
  const eventPath = join(work, 'event.json');
  writeFileSync(
    eventPath,
    JSON.stringify({ ref: `refs/heads/${branch}`, after: commit, repository: { full_name: repository } }),
  );
  const outputPath = join(work, 'output');
  const summaryPath = join(work, 'summary.md');
  writeFileSync(outputPath, '');
  writeFileSync(summaryPath, '');

  const inputs: Record<string, string> = {
    path: ROOT,
    tenant: TENANT,
    bucket: BUCKET,
    'r2-endpoint': stack.s3Endpoint,
    'r2-access-key-id': LOCAL_S3_CREDENTIALS.accessKeyId,
    'r2-secret-access-key': LOCAL_S3_CREDENTIALS.secretAccessKey,
    'api-url': stack.url,
    'api-token': token,
    compression: 'gzip',
    'fail-on-api-error': 'true',
    // The seed's six, plus the benchmark's corpus: a runner's checkout has no `.bench/`.
    exclude: ['.git', 'node_modules', '.next', 'dist', 'build', '.cache', '.bench'].join('\n'),
  };
  const env: Record<string, string | undefined> = {
    ...process.env,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_REPOSITORY: repository,
    GITHUB_REF: `refs/heads/${branch}`,
    GITHUB_SHA: commit,
    GITHUB_ACTOR: 'demo',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_WORKSPACE: ROOT,
  };
  // As the runner names them: INPUT_ + upper case, hyphens kept.
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;

  console.log(`\nRunning node dist/index.js on ${ROOT} (push to ${branch} at ${commit.slice(0, 12)})\n`);
  const child = spawn(process.execPath, [join(ROOT, 'dist/index.js')], { env, cwd: work });
  // The runner swallows ::add-mask:: commands; so does the demo (they carry the secrets).
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (!line.startsWith('::add-mask::')) console.log(`  | ${line}`);
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the action failed (exit ${code})`);

  const outputs = Object.fromEntries(
    [...readFileSync(outputPath, 'utf8').matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)].map((m) => [
      m[1],
      m[3],
    ]),
  );
  const list = (await (
    await fetch(`${stack.url}/api/github/backup/list?tenant=${TENANT}&bucket=${BUCKET}`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as {
    count: number;
    backups: { key: string; size: number; sha256: string; file_count: number }[];
  };
  console.log(`\nThe Worker lists ${list.count} backup(s) for tenant ${TENANT} in bucket ${BUCKET}:`);
  for (const b of list.backups)
    console.log(`  ${b.key}  ${b.size} bytes  ${b.file_count} files  sha256 ${b.sha256}`);
  console.log(
    `\nThe backup is at s3://${BUCKET}/${outputs['backup-key']} (${outputs.size} bytes, ${outputs['file-count']} files)`,
  );
  console.log(`  sha256 ${outputs.sha256}`);
  console.log(
    `  Worker: GET ${stack.url}/api/github/backup/${TENANT}/${outputs['backup-file']}?bucket=${BUCKET}`,
  );
  console.log(`  local R2 data (deleted when the demo stops): ${stack.persistTo}`);

  // The way back: the CLI restores the newest backup, checked against its SHA-256.
  const target = join(work, 'restored');
  const cli = [join(ROOT, 'dist/cli/index.js'), 'restore', '--tenant', TENANT, '--bucket', BUCKET];
  console.log(
    `\nRestoring it: node dist/cli/index.js restore --tenant ${TENANT} --bucket ${BUCKET} --latest --target ${target}\n`,
  );
  const restored = execFileSync(process.execPath, [...cli, '--latest', '--target', target], {
    encoding: 'utf8',
    env: {
      ...process.env,
      R2_BACKUP_API_URL: stack.url,
      R2_BACKUP_API_TOKEN: token,
      R2_ENDPOINT: stack.s3Endpoint,
      R2_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      R2_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const line of restored.trim().split('\n')) console.log(`  | ${line}`);
  const files = countFiles(target);
  if (String(files) !== outputs['file-count'])
    throw new Error(`the restore holds ${files} files, the backup ${outputs['file-count']}`);
  const differing = SPOT_CHECKED.filter(
    (file) => !readFileSync(join(target, file)).equals(readFileSync(join(ROOT, file))),
  );
  if (differing.length > 0) throw new Error(`restored ${differing.join(', ')} differ from the checkout`);
  console.log(
    `\nRestored and checked: ${files} files, as many as the backup holds; ${SPOT_CHECKED.join(', ')} identical to the checkout.`,
  );

  printNextCommands(port ?? 8787);
} catch (error) {
  console.error(`Demo failed: ${(error as Error).message}`);
  if (process.env.DEMO_DEBUG) console.error(stack.output());
  exitCode = 1;
} finally {
  await stack.stop();
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);

/** What to run next: a Worker that keeps its data (`npm run dev`) and the CLI against it. */
function printNextCommands(devPort: number): void {
  const url = `http://127.0.0.1:${devPort}`;
  const token = "R2_BACKUP_API_TOKEN=$(sed -n 's/^CLOUDCONNECT=//p' worker/.dev.vars)";
  console.log(`
Next: a Worker and local R2 that keep their data between runs, on ${url}
  cp worker/.dev.vars.example worker/.dev.vars   (then choose CLOUDCONNECT and RECORD_SIGNING_KEY)
  ${devPort === 8787 ? '' : `PORT=${devPort} `}npm run dev
In another terminal, the backups it holds (none until a run backs up to it):
  R2_BACKUP_API_URL=${url} ${token} node dist/cli/index.js list --tenant ${TENANT} --bucket ${BUCKET}
To add a tenant of your own, step by step: docs/onboarding.md`);
}
