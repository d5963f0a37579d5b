// Throughput benchmark of issue #7: our archive stream and action against the shell
// pipelines users would otherwise run, on the same corpus, in the same run, on the local R2
// stack. Prints median wall time, MB/s of input, output size, peak memory and ratios.
//
//   npm run bench [-- --quick] [--double] [--runs N] [--action path/to/dist/index.js] [--cases a,b,c0]
//
// Every case runs as a child process tree; its peak memory is the sum of the peak RSS
// (VmHWM in /proc/<pid>/status) of each process of the tree, sampled every 50 ms.
// Cases (c0)/(d0) run this script in child mode (`--child`): createArchiveStream -> hash ->
// S3StreamUpload, i.e. the action's pipeline without the Worker calls.
// Cases (c)/(d) run `node dist/index.js` as the runner does; (rc)/(rd) restore their archives
// with `node dist/cli/index.js restore`, against `aws s3 cp - | tar -xzf -` (rb, rc-aws).
// (ce)/(de) are (c)/(d) with encryption-recipients (age), (rde) restores (de) with its identity;
// they are compared with their unencrypted cases of the same rounds.
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import './ts-resolve.ts';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_S3_CREDENTIALS, ROOT, startLocalStack } from './local-stack.ts';
import { generateIdentity, identityToRecipient } from 'age-encryption';

const DEFAULT_EXCLUDES = ['.git', 'node_modules', '.next', 'dist', 'build', '.cache'];
const BUCKET = 'autonomous-coding-agent';
const MiB = 1024 * 1024;

interface Flags {
  quick: boolean;
  double: boolean;
  runs: number;
  action: string;
  /** Only these case ids (e.g. `--cases c0,d0` to look at memory on a larger tree). */
  cases?: string[];
  child?: string[];
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { quick: false, double: false, runs: 3, action: join(ROOT, 'dist/index.js') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') flags.quick = true;
    else if (arg === '--double') flags.double = true;
    else if (arg === '--runs') flags.runs = Number(argv[++i]);
    else if (arg === '--action') flags.action = argv[++i]!;
    else if (arg === '--cases') flags.cases = argv[++i]!.split(',');
    else if (arg === '--child') flags.child = argv.slice(i + 1);
    else throw new Error(`unknown flag ${arg}`);
    if (flags.child) break;
  }
  return flags;
}

// ---------------------------------------------------------------- corpus

interface CorpusStats {
  bytes: number;
  files: number;
}

/** Real files copied from the installed packages, cached under .bench/. The packages are
 *  ~15,000 small files (~100 MB) plus a few large binaries and bundles (~600 MB), so the
 *  corpus is copies of the small files up to the file target, then large files up to the
 *  size target: a mix of source text and binaries like a checkout's. Directories named like a
 *  default exclude get a '_' suffix so that every case archives the whole corpus. */
function buildCorpus(
  name: string,
  targetBytes: number,
  targetFiles: number,
): { dir: string; stats: CorpusStats } {
  const dir = join(ROOT, '.bench', `corpus-${name}`);
  const marker = join(dir, '.complete.json');
  if (existsSync(marker)) return { dir, stats: JSON.parse(readFileSync(marker, 'utf8')) as CorpusStats };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const stats: CorpusStats = { bytes: 0, files: 0 };
  const LARGE = 1024 * 1024;
  const copy = (from: string, to: string, large: boolean, done: () => boolean): void => {
    for (const entry of readdirSync(from).sort()) {
      if (done()) return;
      const source = join(from, entry);
      const st = lstatSync(source);
      const target = join(to, DEFAULT_EXCLUDES.includes(entry) ? `${entry}_` : entry);
      if (st.isDirectory()) copy(source, target, large, done);
      else if (st.isFile() && st.size > LARGE === large) {
        mkdirSync(to, { recursive: true });
        copyFileSync(source, target);
        stats.bytes += st.size;
        stats.files++;
      } else if (st.isSymbolicLink() && !large) {
        mkdirSync(to, { recursive: true });
        symlinkSync(readlinkSync(source), target);
        stats.files++;
      }
    }
  };
  const packages = join(ROOT, 'node_modules') + '/'; // a symlink to the main checkout's
  const enoughFiles = () => stats.files >= targetFiles || stats.bytes >= targetBytes;
  for (let n = 1; !enoughFiles(); n++) copy(packages, join(dir, `src-${n}`), false, enoughFiles);
  const enoughBytes = () => stats.bytes >= targetBytes;
  for (let n = 1; !enoughBytes(); n++) copy(packages, join(dir, `assets-${n}`), true, enoughBytes);
  writeFileSync(marker, JSON.stringify(stats));
  return { dir, stats };
}

// ---------------------------------------------------------------- measuring child processes

interface Measured {
  ms: number;
  peakBytes: number;
}

function vmHwmBytes(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) used so far by a process and all its descendants. */
function treeCpuSeconds(root: number): number {
  let ticks = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // exited
    }
    queue.push(...childrenOf(pid));
  }
  return ticks / 100; // USER_HZ
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // exited
  }
  return out;
}

/** Runs `sh -c script` (or argv as is: sh drops variables with '-' in their names, such as
 *  INPUT_R2-ENDPOINT) and samples the peak RSS of every process of its tree. */
async function measure(script: string | string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  const started = performance.now();
  const [command, ...args] = typeof script === 'string' ? ['sh', '-c', script] : script;
  const child = spawn(command!, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = ''; // the end of both outputs, to explain a failure (actions log errors on stdout)
  const keep = (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const peaks = new Map<number, number>();
  const sample = () => {
    const queue = [child.pid!];
    while (queue.length > 0) {
      const pid = queue.pop()!;
      const hwm = vmHwmBytes(pid);
      if (hwm > (peaks.get(pid) ?? 0)) peaks.set(pid, hwm);
      queue.push(...childrenOf(pid));
    }
  };
  const timer = setInterval(sample, 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`exit ${code}: ${script}\n${stderr}`);
  let peakBytes = 0;
  const shell = typeof script === 'string' ? child.pid : undefined; // the shell is not the work
  for (const [pid, hwm] of peaks) if (pid !== shell) peakBytes += hwm;
  return { ms, peakBytes };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

// ---------------------------------------------------------------- child mode: our stream + S3 upload

/** Child mode (cases c0, d0): the action's archive pipeline into its S3 upload, without the
 *  Worker's calls. */
async function childMain(args: string[]): Promise<void> {
  const [, endpoint, key, pathArg, compression] = args as [string, string, string, string, 'gzip' | 'zstd'];
  const { createArchiveStream } = await import('../core/archive/stream.js');
  const { createHashCounter } = await import('../core/streams/hash.js');
  const { S3StreamUpload } = await import('../core/upload/s3-stream-upload.js');
  const { createS3Client } = await import('../core/r2/client.js');
  const { stream, result } = createArchiveStream({ root: pathArg, excludes: DEFAULT_EXCLUDES, compression });
  const hash = createHashCounter();
  stream.pipe(hash.transform);
  stream.on('error', (e) => hash.transform.destroy(e));
  const client = createS3Client({ endpoint, ...LOCAL_S3_CREDENTIALS });
  const upload = new S3StreamUpload(client, { Bucket: BUCKET, Key: key });
  await upload.send(hash.transform, 8 * MiB, 4);
  const archived = await result;
  process.stdout.write(JSON.stringify({ ...archived, ...hash.digest() }));
}

// ---------------------------------------------------------------- the benchmark

interface CaseResult {
  label: string;
  ms?: number;
  /** Wall time of each round, in round order. */
  rounds?: number[];
  peakBytes?: number;
  outputBytes?: number;
  /** CPU seconds the local stack (wrangler + workerd) spent during the case. */
  stackCpu?: number;
  skipped?: string;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.child) return childMain(flags.child);

  const size = flags.quick
    ? { name: 'quick', bytes: 50 * MiB, files: 2000 }
    : { name: 'full', bytes: 500 * MiB, files: 20000 };
  if (flags.double)
    Object.assign(size, { name: `${size.name}-double`, bytes: size.bytes * 2, files: size.files * 2 });
  console.log(`corpus: building or reusing .bench/corpus-${size.name} ...`);
  const corpus = buildCorpus(size.name, size.bytes, size.files);
  const inputMB = corpus.stats.bytes / 1e6;
  console.log(`corpus: ${inputMB.toFixed(0)} MB in ${corpus.stats.files} files; ${flags.runs} runs per case`);

  const token = 'bench-admin-token';
  const stack = await startLocalStack({ env: 'test', vars: { CLOUDCONNECT: token } });
  const work = mkdtempSync(join(tmpdir(), 'r2-bench-'));
  const awsEnv = {
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: 'auto',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
  };
  const aws = `aws --endpoint-url ${stack.s3Endpoint} s3`;
  const excludeArgs = DEFAULT_EXCLUDES.map((e) => `--exclude=${e}`).join(' ');
  const src = shellQuote(corpus.dir);
  const self = `${shellQuote(process.execPath)} ${shellQuote(fileURLToPath(import.meta.url))} --child`;
  const objectSize = async (key: string, bucket = BUCKET) => {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const { createS3Client } = await import('../core/r2/client.js');
    const head = await createS3Client({ endpoint: stack.s3Endpoint, ...LOCAL_S3_CREDENTIALS }).send(
      new HeadObjectCommand({ Bucket: bucket, Key: key }),
    );
    return head.ContentLength ?? 0;
  };

  const results: Record<string, CaseResult> = {};
  const lastKey: Record<string, string> = {};
  // What the action's runs stored (its outputs): key and bucket of the last run of (c) and (d).
  const actionKey: Record<string, string> = {};
  const actionBucket: Record<string, string> = {};
  /** What case `id` stored last: the action's outputs for (c) and (d), the bench's key otherwise. */
  const stored = (id: string) => {
    const key = actionKey[id] ?? lastKey[id];
    if (!key) throw new Error(`needs case ${id}, which stored nothing (add it to --cases)`);
    return { key, bucket: actionBucket[id] ?? BUCKET };
  };
  // Cases are registered first and then run in rounds (a, b, c, d, ... then again), so that a
  // machine that gets faster or slower during the run (seen here: the same command varying by
  // 30%) weighs on every case alike, not on whichever came last.
  interface Case {
    id: string;
    label: string;
    once: (key: string, n: number) => Promise<Measured>;
    times: number[];
    stackCpu: number[];
    peak: number;
    failed?: string;
  }
  const cases: Case[] = [];
  const run = (id: string, label: string, once: (key: string, n: number) => Promise<Measured>) => {
    if (flags.cases && !flags.cases.includes(id)) return;
    cases.push({ id, label, once, times: [], stackCpu: [], peak: 0 });
  };
  const runRounds = async () => {
    for (let n = 0; n < flags.runs; n++) {
      console.log(`round ${n + 1} of ${flags.runs}`);
      for (const c of cases) {
        if (c.failed) continue;
        try {
          const key = `backups/bench/${c.id}-${n}-${Date.now()}`;
          const stackBefore = treeCpuSeconds(stack.pid);
          const m = await c.once(key, n);
          c.stackCpu.push(treeCpuSeconds(stack.pid) - stackBefore);
          c.times.push(m.ms);
          c.peak = Math.max(c.peak, m.peakBytes);
          lastKey[c.id] = key;
          console.log(
            `  ${c.id} ${(m.ms / 1000).toFixed(2)} s, peak ${(m.peakBytes / MiB).toFixed(0)} MiB  (${c.label})`,
          );
        } catch (error) {
          c.failed = `failed: ${(error as Error).message
            .split('\n')
            .filter((l) => l.trim())
            .slice(-3)
            .join(' | ')}`;
          console.log(`  ${c.id}: ${c.failed}`);
        }
      }
    }
    for (const c of cases) {
      if (c.failed) {
        results[c.id] = { label: c.label, skipped: c.failed };
        continue;
      }
      // Restores store nothing; the action's objects are looked up in the bucket it named.
      let outputBytes: number | undefined;
      if (!c.id.startsWith('r')) {
        const { key, bucket } = stored(c.id);
        outputBytes = await objectSize(key, bucket).catch(() => undefined);
      }
      results[c.id] = {
        label: c.label,
        ms: median(c.times),
        rounds: c.times,
        peakBytes: c.peak,
        outputBytes,
        stackCpu: median(c.stackCpu),
      };
    }
  };

  try {
    console.log('warming the page cache ...');
    await measure(`tar -C ${src} -cf - . | cat > /dev/null`);

    run('a', 'seed: tar -czf file + aws s3 cp', async (key) => {
      const file = join(work, 'seed.tar.gz');
      const pack = await measure(`tar -C ${src} -czf ${shellQuote(file)} ${excludeArgs} .`);
      const upload = await measure(`${aws} cp --quiet ${shellQuote(file)} s3://${BUCKET}/${key}`, awsEnv);
      rmSync(file, { force: true });
      return { ms: pack.ms + upload.ms, peakBytes: Math.max(pack.peakBytes, upload.peakBytes) };
    });

    run('b', 'tar | pigz | aws s3 cp -', (key) =>
      measure(
        `set -e; tar -C ${src} -cf - ${excludeArgs} . | pigz | ${aws} cp --quiet - s3://${BUCKET}/${key}`,
        awsEnv,
      ),
    );

    for (const compression of ['gzip', 'zstd'] as const) {
      const id = compression === 'gzip' ? 'c0' : 'd0';
      run(id, `stream ${compression} -> S3 parts, 8 MiB x4`, (key) =>
        measure(`${self} upload ${shellQuote(stack.s3Endpoint)} ${key} ${src} ${compression}`),
      );
    }

    // The encrypted cases' key: the recipient for the action, the identity for the restore.
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const actionCases = [
      { id: 'c', compression: 'gzip', encrypted: false },
      { id: 'd', compression: 'zstd', encrypted: false },
      { id: 'ce', compression: 'gzip', encrypted: true },
      { id: 'de', compression: 'zstd', encrypted: true },
    ] as const;
    for (const { id, compression, encrypted } of actionCases) {
      const label = `node dist/index.js, ${compression}${encrypted ? ', encrypted (age)' : ''}`;
      if (!existsSync(flags.action)) {
        results[id] = { label, skipped: `skipped: ${flags.action} is absent (build the action first)` };
        continue;
      }
      run(id, label, async (key, n) => {
        const runDir = join(work, `action-${id}-${n}`);
        mkdirSync(runDir);
        const event = join(runDir, 'event.json');
        writeFileSync(event, JSON.stringify({ inputs: { tenant: 'tenant-a' } }));
        // @actions/core appends to these files and requires them to exist, as on a runner.
        writeFileSync(join(runDir, 'output'), '');
        writeFileSync(join(runDir, 'summary'), '');
        const env: Record<string, string> = {
          INPUT_TENANT: 'tenant-a',
          INPUT_BUCKET: BUCKET,
          'INPUT_R2-ENDPOINT': stack.s3Endpoint,
          'INPUT_R2-ACCESS-KEY-ID': LOCAL_S3_CREDENTIALS.accessKeyId,
          'INPUT_R2-SECRET-ACCESS-KEY': LOCAL_S3_CREDENTIALS.secretAccessKey,
          'INPUT_API-URL': stack.url,
          'INPUT_API-TOKEN': token,
          INPUT_PATH: corpus.dir,
          INPUT_COMPRESSION: compression,
          ...(encrypted && { 'INPUT_ENCRYPTION-RECIPIENTS': recipient }),
          'INPUT_FAIL-ON-API-ERROR': 'false',
          GITHUB_EVENT_NAME: 'workflow_dispatch',
          GITHUB_EVENT_PATH: event,
          GITHUB_REPOSITORY: 'bench-org/bench-repo',
          GITHUB_REF: 'refs/heads/main',
          GITHUB_REF_NAME: 'main',
          GITHUB_SHA: 'a'.repeat(40),
          GITHUB_ACTOR: 'bench',
          GITHUB_RUN_ID: String(1000 + n),
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_WORKSPACE: corpus.dir,
          GITHUB_OUTPUT: join(runDir, 'output'),
          GITHUB_STEP_SUMMARY: join(runDir, 'summary'),
          RUNNER_TEMP: runDir,
        };
        const m = await measure([process.execPath, flags.action], env);
        const outputs = readFileSync(join(runDir, 'output'), 'utf8');
        const output = (name: string) => new RegExp(`${name}<<(\\S+)\\n(.*)\\n`).exec(outputs)?.[2];
        actionKey[id] = output('backup-key') ?? '';
        actionBucket[id] = output('bucket') ?? BUCKET;
        return m;
      });
    }

    // Restore: download + decompress + extract.
    // Every restore writes into a new directory, and the trees of earlier runs are deleted only
    // at the end. Deleting 20,000 files just before the next run made that run's file creation
    // several times slower (ext4 skips recently deleted inodes: perf showed ext4_create mostly
    // in recently_deleted()), so times depended on the order of the cases, not on the tools.
    // `sync` after each run, so that no run pays for the write-back of the one before.
    let restores = 0;
    const freshRestoreDir = () => {
      const dir = join(work, `restore-${++restores}`);
      mkdirSync(dir);
      return dir;
    };
    const restore = (script: (into: string) => string) => async () => {
      const m = await measure(script(shellQuote(freshRestoreDir())), awsEnv);
      execFileSync('sync');
      return m;
    };
    // A restore case reads what its backup case stored earlier in the same round.
    const awsTarRestore = (id: string) =>
      restore((into) => {
        const { key, bucket } = stored(id);
        return `set -e; ${aws} cp --quiet s3://${bucket}/${key} - | tar -C ${into} -xzf -`;
      });
    run('rb', 'restore: aws s3 cp - | tar -xzf - (b)', awsTarRestore('b'));
    // Our restore is the CLI as a user runs it: record lookup through the Worker, GetObject,
    // decompression, SHA-256 check, extraction beside the target, move into place.
    const cli = join(dirname(flags.action), 'cli/index.js');
    const cliEnv = {
      R2_BACKUP_API_URL: stack.url,
      R2_BACKUP_API_TOKEN: token,
      R2_ENDPOINT: stack.s3Endpoint,
      R2_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      R2_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    };
    for (const id of ['c', 'd', 'de'] as const) {
      if (!existsSync(cli)) continue;
      if (id === 'c') run('rc-aws', 'restore: aws s3 cp - | tar -xzf - (c)', awsTarRestore('c'));
      const decrypt = id === 'de' ? ', decrypted' : '';
      run(`r${id}`, `restore: r2-backup restore, verified${decrypt} (${id})`, async () => {
        const { key, bucket } = stored(id);
        const args = ['restore', '--tenant', 'tenant-a', '--bucket', bucket, '--backup', basename(key)];
        const env = id === 'de' ? { ...cliEnv, R2_BACKUP_IDENTITY: identity } : cliEnv;
        const m = await measure([process.execPath, cli, ...args, '--target', freshRestoreDir()], env);
        execFileSync('sync');
        return m;
      });
    }
    await runRounds();
  } finally {
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }

  printTable(results, inputMB, corpus.stats.files);
}

function printTable(results: Record<string, CaseResult>, inputMB: number, files: number): void {
  const a = results.a?.ms;
  const b = results.b?.ms;
  const rb = results.rb?.ms;
  console.log(
    `\nResults (median of runs; input ${inputMB.toFixed(0)} MB, ${files} files; ratios = baseline time / case time, > 1 is faster)`,
  );
  console.log('case     wall s   MB/s   output MB  peak MiB  stack CPU s  vs (a)  vs (b)  description');
  for (const [id, r] of Object.entries(results)) {
    if (r.ms === undefined) {
      console.log(`${id.padEnd(8)} ${r.skipped}  (${r.label})`);
      continue;
    }
    const restoreCase = id.startsWith('r');
    const ratio = (base?: number) => (base ? (base / r.ms!).toFixed(2) + 'x' : '-');
    console.log(
      [
        id.padEnd(8),
        (r.ms / 1000).toFixed(2).padStart(6),
        (inputMB / (r.ms / 1000)).toFixed(0).padStart(6),
        (r.outputBytes !== undefined ? (r.outputBytes / 1e6).toFixed(1) : '-').padStart(10),
        ((r.peakBytes ?? 0) / MiB).toFixed(0).padStart(9),
        (r.stackCpu ?? 0).toFixed(1).padStart(12),
        (restoreCase ? '-' : ratio(a)).padStart(7),
        (restoreCase ? ratio(rb) : ratio(b)).padStart(7),
        ' ' + r.label,
      ].join(' '),
    );
  }
  console.log('(restore rows: "vs (b)" is against rb, aws s3 cp - | tar -xzf - of the pigz archive)');
  console.log(
    '(stack CPU: seconds the local stack, wrangler + workerd, spent serving the case; it shares the 2 cores with the case)',
  );
  printRoundRatios(results);
  printEncryptionCost(results);
}

/** Encrypted cases against their unencrypted ones of the same rounds: time (encrypted /
 *  plain, so the backups' 1.25x budget reads directly) and, for the restore, speed (plain /
 *  encrypted time, the 0.9x floor). */
function printEncryptionCost(results: Record<string, CaseResult>): void {
  const pairs = [
    ['ce', 'c', 'time'],
    ['de', 'd', 'time'],
    ['rde', 'rd', 'speed'],
  ] as const;
  const lines: string[] = [];
  for (const [id, base, kind] of pairs) {
    const r = results[id];
    const b = results[base];
    if (!r?.rounds || !b?.rounds) continue;
    const ratio = (ms: number, baseMs: number) =>
      (kind === 'time' ? ms / baseMs : baseMs / ms).toFixed(2) + 'x';
    const rounds = r.rounds.map((ms, i) => ratio(ms, b.rounds![i]!)).join(' ');
    lines.push(
      `  ${id.padEnd(4)} vs ${base.padEnd(3)} ${kind} ${ratio(r.ms!, b.ms!)} (rounds ${rounds}), peak ${((r.peakBytes ?? 0) / MiB).toFixed(0)} MiB vs ${((b.peakBytes ?? 0) / MiB).toFixed(0)} MiB`,
    );
  }
  if (lines.length === 0) return;
  console.log(
    '\nEncryption (age) against the same case unencrypted: backup time ratio, restore speed ratio:',
  );
  for (const line of lines) console.log(line);
}

/** Each round's ratio against the baselines of the same round: the rounds interleave the cases,
 *  so a pair shares the machine's state of the moment, and the spread shows what one run of the
 *  bench can and cannot tell apart. */
function printRoundRatios(results: Record<string, CaseResult>): void {
  const against = (name: string, base: CaseResult | undefined, r: CaseResult) =>
    base?.rounds
      ? [`vs ${name} ${r.rounds!.map((ms, i) => (base.rounds![i]! / ms).toFixed(2) + 'x').join(' ')}`]
      : [];
  const lines: string[] = [];
  for (const [id, r] of Object.entries(results)) {
    if (!r.rounds || ['a', 'b', 'rb'].includes(id)) continue;
    const ratios = id.startsWith('r')
      ? against('rb', results.rb, r)
      : [...against('(a)', results.a, r), ...against('(b)', results.b, r)];
    if (ratios.length > 0) lines.push(`  ${id.padEnd(8)} ${ratios.join('   ')}`);
  }
  if (lines.length === 0) return; // no baseline among the cases run
  console.log('\nPer round (each against the baseline of its own round):');
  for (const line of lines) console.log(line);
}

await main();
