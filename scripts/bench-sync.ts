// Benchmark of issue #5: our mirror against `aws s3 sync` and `rclone sync`, on the same tree
// of about 5,000 real source files (copied from the installed packages into .bench/), in the
// same run, on the local R2 stack. For each tool: the first sync, a re-sync with nothing
// changed, a re-sync with one file changed. Prints wall times (each tool runs as its own
// process, start-up included), ratios, and requests by R2 class, counted by a small proxy on
// 127.0.0.1 in front of the endpoint that sees every tool's requests alike.
//
//   npm run bench:sync [-- --files 5000]
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { request as httpRequest, createServer, type Server } from 'node:http';
import './ts-resolve.ts';
import { dirname, join } from 'node:path';
import { LOCAL_S3_CREDENTIALS, ROOT, startLocalStack } from './local-stack.ts';

const BUCKET = 'autonomous-coding-agent';
const TREE = join(ROOT, '.bench/sync-tree');
const SOURCE_EXTENSIONS = /\.(?:js|mjs|cjs|ts|mts|cts|json|md|map|css|html|txt|yml|yaml)$/;

if (process.argv[2] === '--child') await runChild(process.argv[3]!);
else await main();

/** Child mode: one syncMirror, as the action would run it; prints the result as JSON. */
async function runChild(json: string): Promise<void> {
  const { endpoint, root } = JSON.parse(json) as { endpoint: string; root: string };
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { syncMirror } = await import('../core/mirror/sync.ts');
  const s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'auto',
    credentials: LOCAL_S3_CREDENTIALS,
    maxAttempts: 5,
    expectContinueHeader: false,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const result = await syncMirror({
    s3,
    bucket: BUCKET,
    tenant: 'bench',
    branch: 'main',
    root,
    excludes: [],
  });
  console.log(JSON.stringify({ ...result, skipped: result.skipped.length }));
}

async function main(): Promise<void> {
  const filesFlag = process.argv.indexOf('--files');
  const target = filesFlag === -1 ? 5000 : Number(process.argv[filesFlag + 1]);
  const corpus = buildTree(target);
  console.log(`tree: ${corpus.files} files, ${(corpus.bytes / 1024 / 1024).toFixed(1)} MiB in ${TREE}`);

  const stack = await startLocalStack();
  const proxy = await countingProxy(new URL(stack.url));
  const endpoint = `http://127.0.0.1:${proxy.port}/cdn-cgi/local/r2/s3`;
  const credentials = {
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: 'auto',
  };
  const withoutCaBundle = { ...process.env };
  delete withoutCaBundle.AWS_CA_BUNDLE;
  const tools: Record<string, { command: string[]; env: NodeJS.ProcessEnv }> = {
    mirror: {
      command: [
        process.execPath,
        join(ROOT, 'scripts/bench-sync.ts'),
        '--child',
        JSON.stringify({ endpoint, root: TREE }),
      ],
      env: process.env,
    },
    'aws s3 sync': {
      command: [
        'aws',
        '--endpoint-url',
        endpoint,
        's3',
        'sync',
        '--delete',
        '--only-show-errors',
        TREE,
        `s3://${BUCKET}/aws-sync/`,
      ],
      env: { ...process.env, ...credentials },
    },
    'rclone sync': {
      command: ['rclone', 'sync', TREE, `r2:${BUCKET}/rclone-sync/`, '--s3-no-check-bucket'],
      env: {
        ...withoutCaBundle,
        RCLONE_CONFIG_R2_TYPE: 's3',
        RCLONE_CONFIG_R2_PROVIDER: 'Cloudflare',
        RCLONE_CONFIG_R2_ENDPOINT: endpoint,
        RCLONE_CONFIG_R2_ACCESS_KEY_ID: credentials.AWS_ACCESS_KEY_ID,
        RCLONE_CONFIG_R2_SECRET_ACCESS_KEY: credentials.AWS_SECRET_ACCESS_KEY,
        RCLONE_CONFIG_R2_REGION: 'auto',
        RCLONE_CONFIG_R2_FORCE_PATH_STYLE: 'true',
      },
    },
  };

  const phases = ['first sync', 'unchanged re-sync', 'one file changed'] as const;
  const rows: {
    phase: string;
    tool: string;
    seconds: number;
    classA: number;
    classB: number;
    note: string;
  }[] = [];
  try {
    for (const phase of phases) {
      if (phase === 'one file changed')
        appendFileSync(join(TREE, corpus.oneFile), '\n// changed by the benchmark\n');
      for (const [tool, { command, env }] of Object.entries(tools)) {
        proxy.reset();
        const started = performance.now();
        const output = await run(command, env);
        const seconds = (performance.now() - started) / 1000;
        let note = '';
        if (tool === 'mirror') {
          const result = JSON.parse(output.trim().split('\n').pop()!);
          const own = result.requests as { classA: number; classB: number };
          note = `up ${result.uploaded} del ${result.deleted} same ${result.unchanged}, ${result.checkedBy}; own count A ${own.classA} B ${own.classB}`;
        }
        rows.push({ phase, tool, seconds, ...proxy.counts(), note });
        console.log(
          `${phase.padEnd(18)} ${tool.padEnd(12)} ${seconds.toFixed(2).padStart(7)} s  A ${String(proxy.counts().classA).padStart(5)}  B ${String(proxy.counts().classB).padStart(5)}  ${note}`,
        );
      }
    }
  } finally {
    proxy.server.close();
    await stack.stop();
  }

  console.log('\nratio = tool time / mirror time (higher: the mirror is faster)');
  for (const phase of phases) {
    const ours = rows.find((r) => r.phase === phase && r.tool === 'mirror')!;
    const others = rows
      .filter((r) => r.phase === phase && r.tool !== 'mirror')
      .map((r) => `${r.tool} ${(r.seconds / ours.seconds).toFixed(1)}x`);
    console.log(
      `${phase.padEnd(18)} mirror ${ours.seconds.toFixed(2)} s, ${ours.classA + ours.classB} requests; ${others.join(', ')}`,
    );
  }
}

/** Copies real source files from the installed packages (sorted walk, files <= 256 KiB). */
function buildTree(target: number): { files: number; bytes: number; oneFile: string } {
  rmSync(TREE, { recursive: true, force: true });
  const source = realpathSync(join(ROOT, 'node_modules'));
  let files = 0;
  let bytes = 0;
  let oneFile = '';
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(source, relative), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      if (files >= target) return;
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory() && entry.name !== '.bin') walk(path);
      else if (entry.isFile() && SOURCE_EXTENSIONS.test(entry.name)) {
        const size = statSync(join(source, path)).size;
        if (size > 256 * 1024) continue;
        mkdirSync(dirname(join(TREE, path)), { recursive: true });
        copyFileSync(join(source, path), join(TREE, path));
        files++;
        bytes += size;
        if (files === Math.floor(target / 2)) oneFile = path;
      }
    }
  };
  walk('');
  return { files, bytes, oneFile };
}

function run(command: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${command[0]} exited ${code}:\n${output.slice(-3000)}`)),
    );
  });
}

/** A reverse proxy that counts requests by R2 class (HEAD and object GET: Class B; the rest,
 *  listings, puts, multipart calls and deletes: Class A, as the mirror's own counter). */
async function countingProxy(upstream: URL): Promise<{
  server: Server;
  port: number;
  reset: () => void;
  counts: () => { classA: number; classB: number };
}> {
  let classA = 0;
  let classB = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const objectPath = url.pathname.replace(/^\/cdn-cgi\/local\/r2\/s3\/[^/]+\/?/, '');
    const isList = req.method === 'GET' && (objectPath === '' || url.searchParams.has('list-type'));
    if (req.method === 'HEAD' || (req.method === 'GET' && !isList)) classB++;
    else classA++;
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : 0,
    reset: () => {
      classA = 0;
      classB = 0;
    },
    counts: () => ({ classA, classB }),
  };
}
