// Pure logic of the action: tenant and bucket resolution, input parsing, part sizes, parts.
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { equalParts } from '../../core/streams/equal-parts.js';
import { sendParts } from '../../core/upload/send-parts.js';
import { readGitHubContext } from '../../action/github-context.js';
import { parseBucketMap, parseExcludes } from '../../action/inputs.js';
import { withRetries } from '../../core/retry.js';
import { resolveTarget } from '../../action/backup/tenant.js';
import { estimateTreeBytes, fileSystemBound, mountPoints } from '../../core/tree/size.js';
import {
  MAX_PARTS,
  MIB,
  MIN_PART_SIZE,
  choosePartSize,
  fitsSmallestParts,
  partsInFlight,
} from '../../core/upload/uploader.js';

const map = parseBucketMap(
  'meauxbility: meauxbilitygithubconnect\n# comment\n\nautonomous-coding-agent: autonomous-coding-agent',
);
const ctx = (eventName: string, payload: Record<string, unknown> = {}) => ({
  eventName,
  payload,
  repositoryName: 'autonomous-coding-agent',
});

describe('resolveTarget', () => {
  test('the input wins over everything', () => {
    const target = resolveTarget(
      { tenant: 'meauxbility', bucketMap: map },
      ctx('repository_dispatch', { client_payload: { tenant: 'other' } }),
    );
    expect(target).toMatchObject({
      tenant: 'meauxbility',
      bucket: 'meauxbilitygithubconnect',
      bucketSource: 'bucket-map',
    });
  });
  test('workflow_dispatch input, then repository_dispatch client_payload, then the repository name', () => {
    expect(
      resolveTarget({ bucketMap: map }, ctx('workflow_dispatch', { inputs: { tenant: 'tenant-a' } })).tenant,
    ).toBe('tenant-a');
    expect(
      resolveTarget({ bucketMap: map }, ctx('workflow_dispatch', { inputs: { tenant: '' } })).tenant,
    ).toBe('autonomous-coding-agent');
    expect(
      resolveTarget(
        { bucketMap: map },
        ctx('repository_dispatch', { client_payload: { tenant: 'tenant-b' } }),
      ),
    ).toMatchObject({
      tenant: 'tenant-b',
      bucket: 'tenant-b-github-backup',
      tenantSource: 'client_payload.tenant',
    });
    // A push payload's fields never pick the tenant.
    expect(resolveTarget({ bucketMap: map }, ctx('push', { inputs: { tenant: 'x' } })).tenant).toBe(
      'autonomous-coding-agent',
    );
  });
  test('bucket: input, else map, else {tenant}-github-backup in lowercase', () => {
    expect(
      resolveTarget({ tenant: 'meauxbility', bucket: 'my-bucket', bucketMap: map }, ctx('push')).bucket,
    ).toBe('my-bucket');
    expect(resolveTarget({ tenant: 'My-Repo', bucketMap: map }, ctx('push')).bucket).toBe(
      'my-repo-github-backup',
    );
  });
  test('invalid values name their source', () => {
    expect(() =>
      resolveTarget({ bucketMap: map }, ctx('repository_dispatch', { client_payload: { tenant: '../x' } })),
    ).toThrow('Invalid tenant (from client_payload.tenant)');
    // A tenant of 50 characters leaves no room for -github-backup in R2's 63.
    expect(() => resolveTarget({ tenant: 'x'.repeat(50), bucketMap: map }, ctx('push'))).toThrow(
      'Invalid bucket (from the default {tenant}-github-backup)',
    );
  });
});

test('parseBucketMap refuses malformed lines, naming the line', () => {
  expect([...map]).toEqual([
    ['meauxbility', 'meauxbilitygithubconnect'],
    ['autonomous-coding-agent', 'autonomous-coding-agent'],
  ]);
  expect(() => parseBucketMap('a: ok-bucket\nno colon here')).toThrow('Invalid bucket-map (line 2)');
  expect(() => parseBucketMap('a: UPPER')).toThrow(/bucket-map \(line 1\): must be an R2 bucket name/);
});

test('parseExcludes: empty means the seed six; lines or commas', () => {
  expect(parseExcludes('')).toEqual(['.git', 'node_modules', '.next', 'dist', 'build', '.cache']);
  expect(parseExcludes('.git\nnode_modules, *.log\n\n')).toEqual(['.git', 'node_modules', '*.log']);
  expect(() => parseExcludes(Array.from({ length: 101 }, (_, i) => `p${i}`).join('\n'))).toThrow(
    'Invalid exclude',
  );
});

test('choosePartSize: 8 MiB minimum, hundreds of GiB within 10,000 parts', () => {
  expect(choosePartSize(0)).toBe(8 * MIB);
  expect(choosePartSize(100 * MIB)).toBe(8 * MIB);
  expect(choosePartSize(70 * 1024 * MIB)).toBe(8 * MIB);
  expect(choosePartSize(80 * 1024 * MIB)).toBe(10 * MIB);
  for (const gib of [200, 500, 900]) {
    const bytes = gib * 1024 * MIB;
    const size = choosePartSize(bytes);
    expect(size % MIB).toBe(0);
    expect(Math.ceil(bytes / size)).toBeLessThanOrEqual(MAX_PARTS);
  }
  expect(() => choosePartSize(2000 * 1024 * MIB, 95 * MIB)).toThrow(/more than this upload path allows/);
});

/** The parts of `chunks` cut by equalParts, copied, with their numbers and last flags. */
async function cut(chunks: Buffer[], size: number) {
  const parts: { number: number; data: Buffer; last: boolean }[] = [];
  for await (const part of equalParts(Readable.from(chunks), size))
    parts.push({ ...part, data: Buffer.from(part.data) });
  return parts;
}

test('equalParts: exact sizes whatever the chunking, numbered, only the last flagged', async () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  const chunks = [data.subarray(0, 7), data.subarray(7, 300), data.subarray(300, 301), data.subarray(301)];
  const parts = await cut(chunks, 128);
  expect(parts.map((p) => p.data.length)).toEqual([128, 128, 128, 128, 128, 128, 128, 104]);
  expect(parts.map((p) => p.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(parts.map((p) => p.last)).toEqual([false, false, false, false, false, false, false, true]);
  expect(Buffer.concat(parts.map((p) => p.data))).toEqual(data);
});

test('equalParts: a body of whole parts ends on a full last part; an empty body is one empty part', async () => {
  const parts = await cut([Buffer.alloc(100, 1), Buffer.alloc(156, 2)], 128);
  expect(parts.map((p) => [p.number, p.data.length, p.last])).toEqual([
    [1, 128, false],
    [2, 128, true],
  ]);
  expect(await cut([], 128)).toEqual([{ number: 1, data: Buffer.alloc(0), last: true }]);
  expect((await cut([Buffer.alloc(5)], 128)).map((p) => [p.data.length, p.last])).toEqual([[5, true]]);
});

/** A source of `count` chunks of `size` bytes, chunk i filled with i; counts reads. */
function numberedSource(count: number, size: number) {
  let i = 0;
  return new Readable({
    read() {
      this.push(i < count ? Buffer.alloc(size, i++) : null);
    },
  });
}

test('sendParts: parts in order, at most `parallel` in flight, part buffers reused', async () => {
  let inFlight = 0;
  let most = 0;
  const buffers = new Set<ArrayBufferLike>();
  const seen: number[] = [];
  const sent = await sendParts(numberedSource(40, 64), 64, 3, async (part) => {
    buffers.add(part.data.buffer);
    expect(part.data).toEqual(Buffer.alloc(64, part.number - 1));
    inFlight++;
    most = Math.max(most, inFlight);
    // Later parts finish first: the answer is still in part order.
    await new Promise((resolve) => setTimeout(resolve, (40 - part.number) % 7));
    inFlight--;
    seen.push(part.number);
    return `etag-${part.number}`;
  });
  expect(sent).toEqual(Array.from({ length: 40 }, (_, i) => ({ number: i + 1, etag: `etag-${i + 1}` })));
  expect(seen).not.toEqual([...seen].sort((a, b) => a - b));
  expect(most).toBe(3);
  // The parts in flight plus the one being filled.
  expect(buffers.size).toBeLessThanOrEqual(4);
});

test('sendParts: a failed part stops the body, waits for the parts in flight and rethrows', async () => {
  const body = numberedSource(1000, 64);
  let settled = 0;
  let started = 0;
  const sending = sendParts(body, 64, 3, async (part) => {
    started++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    settled++;
    if (part.number === 4) throw new Error('part 4 refused');
    return 'etag';
  });
  await expect(sending).rejects.toThrow('part 4 refused');
  expect(settled).toBe(started);
  expect(started).toBeLessThan(10);
  expect(body.destroyed).toBe(true);
});

test('sendParts: a failing body rethrows its error after the parts in flight', async () => {
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent++ < 5) this.push(Buffer.alloc(64));
      else this.destroy(new Error('disk on fire'));
    },
  });
  let started = 0;
  let answered = 0;
  await expect(
    sendParts(body, 64, 2, async () => {
      started++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      answered++;
      return 'etag';
    }),
  ).rejects.toThrow('disk on fire');
  expect(started).toBeGreaterThan(0);
  expect(answered).toBe(started);
});

test('readGitHubContext: branch, commit and run URL from the runner variables and payload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/feature/x', after: 'a'.repeat(40) }));
  expect(
    readGitHubContext({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: 'org/repo',
      GITHUB_RUN_ID: '7',
      GITHUB_RUN_ATTEMPT: '2',
    }),
  ).toMatchObject({
    branch: 'feature/x',
    commit: 'a'.repeat(40),
    repositoryName: 'repo',
    runUrl: 'https://github.com/org/repo/actions/runs/7/attempts/2',
  });
  expect(
    readGitHubContext({
      GITHUB_REF: 'refs/heads/develop',
      GITHUB_SHA: 'b'.repeat(40),
      GITHUB_REPOSITORY: 'o/r',
    }),
  ).toMatchObject({ branch: 'develop', commit: 'b'.repeat(40) });
});

test('partsInFlight: four small parts, fewer large ones, never none', () => {
  expect(partsInFlight(8 * MIB)).toBe(4);
  expect(partsInFlight(16 * MIB)).toBe(4);
  expect(partsInFlight(32 * MIB)).toBe(2);
  expect(partsInFlight(60 * MIB)).toBe(1);
  expect(partsInFlight(5 * 1024 * MIB)).toBe(1);
});

test('withRetries: transient errors again up to the limit, others at once', async () => {
  const attempts: number[] = [];
  const flaky = (failures: number, transient: boolean) => async (attempt: number) => {
    attempts.push(attempt);
    if (attempt <= failures) throw Object.assign(new Error(`fail ${attempt}`), { transient });
    return attempt;
  };
  const isTransient = (error: unknown) => (error as { transient: boolean }).transient;
  await expect(withRetries(flaky(2, true), { attempts: 3, baseDelayMs: 1, isTransient })).resolves.toBe(3);
  await expect(withRetries(flaky(3, true), { attempts: 3, baseDelayMs: 1, isTransient })).rejects.toThrow(
    'fail 3',
  );
  attempts.length = 0;
  await expect(withRetries(flaky(1, false), { attempts: 3, baseDelayMs: 1, isTransient })).rejects.toThrow(
    'fail 1',
  );
  expect(attempts).toEqual([1]);
});

describe('the tree size bound from its file system', () => {
  const tree = mkdtempSync(join(tmpdir(), 'bound-'));
  mkdirSync(join(tree, 'sub'));
  writeFileSync(join(tree, 'sub', 'data'), Buffer.alloc(3 * MIB, 7));
  writeFileSync(join(tree, 'small'), 'x');
  const real = realpathSync(tree);
  const mountInfo =
    (...points: string[]) =>
    () =>
      points.map((p, i) => `${30 + i} 1 8:1 / ${p} rw,relatime shared:1 - ext4 /dev/vda rw`).join('\n');

  test('is at least what walking the tree finds', () => {
    const bound = fileSystemBound(tree, mountInfo('/', '/proc'));
    expect(bound).toBeGreaterThanOrEqual(estimateTreeBytes(tree, []));
  });

  test('is unknown when a file system is mounted inside the tree, or mounts cannot be read', () => {
    expect(fileSystemBound(tree, mountInfo('/', `${real}/sub`))).toBeUndefined();
    expect(fileSystemBound(tree, () => undefined)).toBeUndefined();
    // Everything is inside "/".
    expect(fileSystemBound('/', mountInfo('/', '/proc'))).toBeUndefined();
    // A mount beside the tree whose name starts like it is not inside it.
    expect(fileSystemBound(tree, mountInfo('/', `${real}-other`))).toBeDefined();
  });

  test('mount points are read with the kernel escapes undone', () => {
    expect(mountPoints('36 35 98:0 /mnt1 /mnt/my\\040disk rw - ext3 /dev/root rw\n')).toEqual([
      '/mnt/my disk',
    ]);
  });

  test('fitsSmallestParts is exactly what choosePartSize gives the smallest parts for', () => {
    for (const bytes of [0, 70 * 1024 * MIB, MIN_PART_SIZE * 9_000, MIN_PART_SIZE * 9_000 + 1]) {
      expect(fitsSmallestParts(bytes)).toBe(choosePartSize(bytes) === MIN_PART_SIZE);
    }
  });
});
