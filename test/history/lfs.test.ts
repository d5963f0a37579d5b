// include-lfs's library end to end, with real git, git-lfs (a file:// LFS remote, git-lfs's
// standalone transfer) and the shared local stack: a checkout cloned without its LFS objects
// fetches every ref's (one only on a side branch); each is stored once under lfs/{tenant}/{oid};
// a record with the bundle and the list goes through the Worker, and `r2-backup restore --history`
// gives a repository whose LFS files have their content. A replaced object fails the restore with
// nothing installed.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { bundleInto } from '../../core/git/history.js';
import { collectLfsObjects, lfsList, storeLfsObjects, type LfsObject } from '../../core/git/lfs.js';
import { createS3Client } from '../../core/r2/client.js';
import { storedSizesOverS3 } from '../../core/r2/object-size.js';
import { parseLfsList } from '../../core/restore/lfs.js';
import { S3ContentUploader, S3Uploader } from '../../core/upload/s3-uploader.js';
import { MIN_PART_SIZE } from '../../core/upload/uploader.js';
import { LOCAL_S3_CREDENTIALS, type LocalStack } from '../../scripts/local-stack.js';
import { aws } from '../action/helpers.js';
import { fullEnv, runCli, workerEnv } from '../cli/helpers.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import { gitWithoutLfsContent, makeLfsRepository } from '../helpers/lfs-repository.js';
import { apiClient } from '../worker/helpers.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const BUCKET = 'tenant-a-github-backup';
const TENANT = 'tenant-a';
const BACKUP_FILE = '20250101-000000.tar.gz';
let stack: LocalStack;
let work: string;
let checkout: string;
let collected: LfsObject[];

const git = gitWithoutLfsContent;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const s3 = () => createS3Client({ endpoint: stack.s3Endpoint, ...LOCAL_S3_CREDENTIALS });
// Over S3, LFS objects are written without a claim (their key is their hash): S3ContentUploader.
const uploader = () => new S3ContentUploader(s3(), BUCKET, stack.s3Endpoint, 'application/octet-stream');
const noLog = (): void => undefined;

// LFS content: big.bin in two versions on main, side.bin only on the branch `side`.
const content = {
  bigOne: randomBytes(300_000),
  bigTwo: randomBytes(200_000),
  side: randomBytes(100_000),
};

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-lfs-'));
  ({ checkout } = await makeLfsRepository(work, [
    { branch: 'main', file: 'big.bin', content: content.bigOne },
    { branch: 'main', file: 'big.bin', content: content.bigTwo },
    { branch: 'main', file: 'README.md', content: '# LFS fixture\n' },
    { branch: 'side', file: 'side.bin', content: content.side },
  ]));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('collectLfsObjects fetches the objects of every ref and checks each against its oid', async () => {
  // git-lfs's clone may leave empty directories in the store, but no object.
  const store = join(checkout, '.git', 'lfs', 'objects');
  expect(
    existsSync(store)
      ? readdirSync(store, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      : [],
  ).toEqual([]);
  // The clone has pointers, not content.
  expect(readFileSync(join(checkout, 'big.bin'), 'utf8')).toMatch(/^version https:\/\/git-lfs/);
  collected = await collectLfsObjects(checkout, noLog);
  const expected = Object.values(content)
    .map((bytes) => ({ oid: sha256(bytes), size: bytes.length }))
    .sort((a, b) => a.oid.localeCompare(b.oid));
  expect(collected.map(({ oid, size }) => ({ oid, size }))).toEqual(expected);
  for (const object of collected) {
    expect(object.path).toBe(
      join(checkout, '.git', 'lfs', 'objects', object.oid.slice(0, 2), object.oid.slice(2, 4), object.oid),
    );
  }
  expect(JSON.parse(lfsList(collected).toString())).toEqual({
    format: 'r2-backup-lfs-list-v1',
    objects: expected,
  });
}, 60_000);

test('a corrupt local object is refused with its path', async () => {
  const copy = join(work, 'corrupt-copy');
  await exec('cp', ['-a', checkout, copy]);
  const victim = collected[0]!;
  const path = victim.path.replace(checkout, copy);
  const bytes = readFileSync(path);
  bytes[0]! ^= 0xff;
  writeFileSync(path, bytes);
  // git lfs fetch leaves an object it already has alone: the corrupt one stays to be found.
  await expect(collectLfsObjects(copy, noLog)).rejects.toThrow(`The local LFS object ${path} is corrupt`);
}, 60_000);

test('each object is stored once: a second backup stores none, all already there', async () => {
  const existingSize = () => storedSizesOverS3(s3(), BUCKET, `lfs/${TENANT}/`);
  const first = await storeLfsObjects({
    objects: collected,
    tenant: TENANT,
    uploader: uploader(),
    log: noLog,
    existingSize: await existingSize(),
  });
  const total = collected.reduce((sum, { size }) => sum + size, 0);
  expect(first).toEqual({ stored: 3, storedBytes: total, existing: 0 });
  for (const { oid, size } of collected) {
    const file = join(work, `stored-${oid}`);
    await aws(stack, 's3', 'cp', `s3://${BUCKET}/lfs/${TENANT}/${oid}`, file, '--only-show-errors');
    const stored = readFileSync(file);
    expect(stored.length).toBe(size);
    expect(sha256(stored)).toBe(oid);
  }
  const second = await storeLfsObjects({
    objects: collected,
    tenant: TENANT,
    uploader: uploader(),
    log: noLog,
    existingSize: await existingSize(),
  });
  expect(second).toEqual({ stored: 0, storedBytes: 0, existing: 3 });
}, 60_000);

test("over S3, a planted object of another size or a killed run's empty claim is replaced by the checked bytes", async () => {
  const bytes = randomBytes(5_000);
  const path = join(work, 'planted-object');
  writeFileSync(path, bytes);
  const object = { oid: sha256(bytes), size: bytes.length, path };
  const key = `lfs/${TENANT}/${object.oid}`;
  const storedBytes = async (): Promise<Buffer> => {
    const file = join(work, 'read-back');
    await aws(stack, 's3', 'cp', `s3://${BUCKET}/${key}`, file, '--only-show-errors');
    return readFileSync(file);
  };
  const planted = join(work, 'other-bytes');
  for (const content of ['other', '']) {
    writeFileSync(planted, content);
    await aws(stack, 's3', 'cp', planted, `s3://${BUCKET}/${key}`, '--only-show-errors');
    const lines: string[] = [];
    expect(
      await storeLfsObjects({
        objects: [object],
        tenant: TENANT,
        uploader: uploader(),
        log: (line) => lines.push(line),
        existingSize: await storedSizesOverS3(s3(), BUCKET, `lfs/${TENANT}/`),
      }),
    ).toEqual({ stored: 1, storedBytes: 5_000, existing: 0 });
    expect(lines.join('\n')).toContain(
      `${key} holds ${content.length} bytes, not the object's 5000: replacing it`,
    );
    expect(sha256(await storedBytes())).toBe(object.oid);
  }
  // Without a way to read its size (the Worker's routes) a taken key is skipped: the restore's
  // hash catches a planted object there.
  writeFileSync(planted, 'other');
  await aws(stack, 's3', 'cp', planted, `s3://${BUCKET}/${key}`, '--only-show-errors');
  const claimed = new S3Uploader(s3(), BUCKET, stack.s3Endpoint, 'application/octet-stream');
  expect(await storeLfsObjects({ objects: [object], tenant: TENANT, uploader: claimed, log: noLog })).toEqual(
    {
      stored: 0,
      storedBytes: 0,
      existing: 1,
    },
  );
  await aws(stack, 's3', 'rm', `s3://${BUCKET}/${key}`);
});

test('parseLfsList refuses malformed lists', () => {
  const list = (objects: unknown) =>
    Buffer.from(JSON.stringify({ format: 'r2-backup-lfs-list-v1', objects }));
  const oid = 'a'.repeat(64);
  expect(parseLfsList(list([{ oid, size: 3 }]))).toEqual([{ oid, size: 3 }]);
  expect(() => parseLfsList(Buffer.from('{'))).toThrow(/not JSON/);
  expect(() => parseLfsList(Buffer.from('{"format":"other","objects":[]}'))).toThrow(/format/);
  expect(() => parseLfsList(list([{ oid: '../../x', size: 3 }]))).toThrow(/entry 0 has no valid oid/);
  expect(() => parseLfsList(list([{ oid: 'A'.repeat(64), size: 3 }]))).toThrow(/entry 0 has no valid oid/);
  expect(() => parseLfsList(list([{ oid, size: 1.5 }]))).toThrow(/entry 0 has no valid size/);
  expect(() => parseLfsList(list([{ oid, size: -1 }]))).toThrow(/entry 0 has no valid size/);
  expect(() =>
    parseLfsList(
      list([
        { oid, size: 1 },
        { oid, size: 1 },
      ]),
    ),
  ).toThrow(/listed twice/);
  expect(() =>
    parseLfsList(
      list([
        { oid, size: 1 },
        { oid: 'b'.repeat(64), size: 1 },
      ]),
      1,
    ),
  ).toThrow(/more than 1 objects/);
});

/** What the action will store for include-git-history and include-lfs, and the Worker's record of it. */
async function storeBackup(): Promise<void> {
  const prefix = `backups/${TENANT}/`;
  const bundleKey = `${prefix}${BACKUP_FILE.replace(/\.tar\.gz$/, '.bundle')}`;
  const bundle = await bundleInto(checkout, (await uploader().begin(bundleKey))!, MIN_PART_SIZE);
  const listKey = `${prefix}${BACKUP_FILE.replace(/\.tar\.gz$/, '.lfs.json')}`;
  const listBytes = lfsList(collected);
  await (await uploader().begin(listKey))!.send(Readable.from([listBytes]), MIN_PART_SIZE);
  const response = await apiClient(stack, TOKEN).post('/api/github/backup', {
    tenant: TENANT,
    bucket: BUCKET,
    repo: 'octo-org/lfs-app',
    branch: 'main',
    commit: await git(checkout, 'rev-parse', 'HEAD'),
    backup_file: BACKUP_FILE,
    action: 'upload',
    bundle_key: bundleKey,
    bundle_size: bundle.size,
    bundle_sha256: bundle.sha256,
    lfs_key: listKey,
    lfs_size: listBytes.length,
    lfs_sha256: sha256(listBytes),
    lfs_count: collected.length,
    lfs_bytes: collected.reduce((sum, { size }) => sum + size, 0),
  });
  if (response.status !== 201 && response.status !== 200) throw new Error(await response.text());
}

test('restore --history brings the LFS objects back: content checked out, the side branch object in the store', async () => {
  await storeBackup();
  const sideOid = sha256(content.side);
  const total = collected.reduce((sum, { size }) => sum + size, 0);
  for (const env of [
    // Debian's git-lfs configures its filter system-wide: the checkout smudges from the staged objects.
    fullEnv(stack, TOKEN),
    // No filter anywhere: the content comes from `git lfs install --local` and `git lfs checkout`.
    { ...workerEnv(stack, TOKEN), GIT_CONFIG_NOSYSTEM: '1' },
  ]) {
    const target = join(mkdtempSync(join(work, 'restored-')), 'repo');
    const run = await runCli(
      ['restore', '--tenant', TENANT, '--backup', BACKUP_FILE, '--history', '--target', target],
      env,
    );
    expect(run.stderr).not.toContain('Warning');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Restored 3 LFS objects (${total} bytes, each SHA-256 verified)`);
    expect(readFileSync(join(target, 'big.bin')).equals(content.bigTwo)).toBe(true);
    const store = join(target, '.git', 'lfs', 'objects');
    expect(
      readFileSync(join(store, sideOid.slice(0, 2), sideOid.slice(2, 4), sideOid)).equals(content.side),
    ).toBe(true);
    expect(await git(target, 'status', '--porcelain')).toBe('');
    // The side branch (a remote-tracking ref in the checkout) has its content too: the objects are local.
    await exec('git', ['checkout', '--quiet', 'origin/side'], { cwd: target });
    expect(readFileSync(join(target, 'side.bin')).equals(content.side)).toBe(true);
  }
}, 120_000);

test('without git-lfs the objects are restored into the store and a warning says how to finish', async () => {
  // A PATH with git and no git-lfs, and no system configuration naming its filter.
  const bin = mkdtempSync(join(work, 'bin-'));
  symlinkSync((await exec('sh', ['-c', 'command -v git'])).stdout.trim(), join(bin, 'git'));
  const target = join(mkdtempSync(join(work, 'no-lfs-')), 'repo');
  const run = await runCli(
    ['restore', '--tenant', TENANT, '--backup', BACKUP_FILE, '--history', '--json', '--target', target],
    { ...fullEnv(stack, TOKEN), PATH: bin, GIT_CONFIG_NOSYSTEM: '1' },
  );
  expect(run.code).toBe(0);
  const total = collected.reduce((sum, { size }) => sum + size, 0);
  expect(JSON.parse(run.stdout)).toMatchObject({ lfs: { objects: 3, bytes: total, checkedOut: false } });
  expect(run.stderr).toMatch(
    /Warning: git-lfs is not installed: the LFS objects are in \.git\/lfs\/objects.*git lfs checkout/,
  );
  expect(readFileSync(join(target, 'big.bin'), 'utf8')).toMatch(/^version https:\/\/git-lfs/);
  const oid = sha256(content.bigTwo);
  expect(
    readFileSync(join(target, '.git', 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)).equals(
      content.bigTwo,
    ),
  ).toBe(true);
}, 60_000);

test('a replaced LFS object (other bytes under its oid) fails the restore with nothing installed', async () => {
  const sideOid = sha256(content.side);
  const other = join(work, 'replacement');
  writeFileSync(other, randomBytes(content.side.length));
  await aws(stack, 's3', 'cp', other, `s3://${BUCKET}/lfs/${TENANT}/${sideOid}`, '--only-show-errors');
  const target = mkdtempSync(join(work, 'kept-'));
  writeFileSync(join(target, 'mine.txt'), 'untouched\n');
  const run = await runCli(
    ['restore', '--tenant', TENANT, '--backup', BACKUP_FILE, '--history', '--force', '--target', target],
    fullEnv(stack, TOKEN),
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`The LFS object ${sideOid} does not match its metadata`);
  expect(readFileSync(join(target, 'mine.txt'), 'utf8')).toBe('untouched\n');
  expect(existsSync(join(target, '.git'))).toBe(false);
}, 60_000);
