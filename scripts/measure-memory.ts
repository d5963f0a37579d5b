// `npm run measure:memory`: peak memory and throughput of `node dist/index.js` backing up a
// generated tree of at least 500 MB to the local stack, next to GNU tar | gzip on the same tree
// as a baseline. Options: --mb N (tree size, default 520), --compression gzip|zstd|none,
// --worker (upload through the Worker's route instead of S3).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_S3_CREDENTIALS, ROOT, startLocalStack } from './local-stack.ts';

const MIB = 1024 * 1024;
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const targetMb = Number(arg('mb') ?? 520);
const compression = arg('compression') ?? 'gzip';
const viaWorker = process.argv.includes('--worker');

/** Incompressible 1 MiB files, one large text file and thousands of small ones. */
function generateTree(root: string, bytes: number): number {
  let total = 0;
  const text = Buffer.from('All work and no play makes a backup dull. 0123456789\n'.repeat(20_000));
  for (let i = 0; i < 5000; i++) {
    const dir = join(root, 'small', String(i % 50), String(i % 7));
    mkdirSync(dir, { recursive: true });
    const data = text.subarray(0, 1024 + ((i * 997) % 3072));
    writeFileSync(join(dir, `file-${i}.txt`), data);
    total += data.length;
  }
  mkdirSync(join(root, 'text'));
  const textFile = join(root, 'text', 'big.log');
  const textBytes = Math.floor(bytes / 5);
  for (let written = 0; written < textBytes; written += text.length) {
    writeFileSync(textFile, text.subarray(0, Math.min(text.length, textBytes - written)), { flag: 'a' });
  }
  total += textBytes;
  for (let i = 0; total < bytes; i++) {
    const dir = join(root, 'random', String(i % 20));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `blob-${i}.bin`), randomBytes(MIB));
    total += MIB;
  }
  return total;
}

/** Runs a command, sampling its peak resident set (VmHWM) while it runs. */
async function measure(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; ms: number; peakKb: number; stdout: string }> {
  const started = Date.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  let peakKb = 0;
  const sample = (): void => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch {
      // exited
    }
  };
  const timer = setInterval(sample, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  return { code, ms: Date.now() - started, peakKb, stdout };
}

const work = mkdtempSync(join(tmpdir(), 'r2-backup-measure-'));
const tree = join(work, 'tree');
mkdirSync(tree);
console.log(`Generating a tree of ${targetMb} MB in ${tree} ...`);
const treeBytes = generateTree(tree, targetMb * 1e6);
const token = randomBytes(24).toString('hex');
const stack = await startLocalStack({ env: 'test', vars: { CLOUDCONNECT: token } });
try {
  const eventPath = join(work, 'event.json');
  writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/main' }));
  writeFileSync(join(work, 'output'), '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_OUTPUT: join(work, 'output'),
    GITHUB_REPOSITORY: 'local/measure',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: '0'.repeat(40),
    GITHUB_RUN_ID: '1',
    INPUT_PATH: tree,
    INPUT_TENANT: 'tenant-a',
    INPUT_COMPRESSION: compression,
    'INPUT_API-URL': stack.url,
    'INPUT_API-TOKEN': token,
  };
  if (!viaWorker) {
    env['INPUT_R2-ENDPOINT'] = stack.s3Endpoint;
    env['INPUT_R2-ACCESS-KEY-ID'] = LOCAL_S3_CREDENTIALS.accessKeyId;
    env['INPUT_R2-SECRET-ACCESS-KEY'] = LOCAL_S3_CREDENTIALS.secretAccessKey;
  }
  console.log(
    `Backing up with node dist/index.js (${compression}, ${viaWorker ? 'Worker route' : 'S3'}) ...`,
  );
  const action = await measure(process.execPath, [join(ROOT, 'dist/index.js')], env);
  if (action.code !== 0) throw new Error(`the action failed:\n${action.stdout}`);
  const size = Number(/^size<<(\S+)\n(\d+)\n\1$/m.exec(readFileSync(join(work, 'output'), 'utf8'))?.[2] ?? 0);

  // Through a pipe: GNU tar skips reading files when it writes straight to /dev/null.
  const compressor = compression === 'gzip' ? '| gzip -6' : compression === 'zstd' ? '| zstd -3 -q' : '';
  const pipeline = `tar -cf - -C '${tree}' . ${compressor} | cat > /dev/null`;
  console.log(`Baseline: ${pipeline} ...`);
  const baseline = await measure('sh', ['-c', pipeline], process.env);

  const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
  console.log('\nResult');
  console.log(`  tree                 ${mb(treeBytes)} MB`);
  console.log(`  archive              ${mb(size)} MB (${compression})`);
  console.log(
    `  action peak RSS      ${(action.peakKb / 1024).toFixed(1)} MiB (limit 300 MB: ${action.peakKb * 1024 < 300e6 ? 'within' : 'OVER'})`,
  );
  console.log(
    `  action time          ${(action.ms / 1000).toFixed(1)} s, ${mb((treeBytes / action.ms) * 1000)} MB/s read`,
  );
  console.log(
    `  baseline (GNU tar)   ${(baseline.ms / 1000).toFixed(1)} s, ${mb((treeBytes / baseline.ms) * 1000)} MB/s`,
  );
  const progress = action.stdout.split('\n').filter((line) => /^ +\d+ files, .* read, /.test(line));
  console.log(
    `  progress lines       ${progress.length}${progress.length ? `, last: ${progress.at(-1)!.trim()}` : ''}`,
  );
  console.log(
    `  time ratio           ${(action.ms / baseline.ms).toFixed(2)}x the baseline (which uploads nothing)`,
  );
} finally {
  await stack.stop();
  rmSync(work, { recursive: true, force: true });
}
