// `r2-backup restore --metadata` end to end: an export (written by hand, packed with GNU tar
// --zstd) stored in the local R2 with a record through the Worker, restored by the CLI into
// readable files plus the export itself; a replaced export object and an export holding a
// symbolic link write nothing; --history with --metadata is a usage error.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXIT } from '../../core/errors.js';
import { MANIFEST_FILE, assetPath } from '../../core/github/export-format.js';
import { archiveKey, metaFileName } from '../../common/naming.js';
import type { LocalStack } from '../../scripts/local-stack.js';
import { fullEnv, runCli, workerEnv } from '../cli/helpers.js';
import { sharedStack, sharedStackToken } from '../helpers/shared-stack.js';
import {
  RELEASE_ID,
  ASSET_IDS,
  exportFixture,
  packExport,
  writeExport,
  storeExportBackup,
  type ExportFixture,
} from './metadata-fixture.js';

const exec = promisify(execFile);
const TOKEN = sharedStackToken();
const TENANT = 'tenant-a';
let stack: LocalStack;
let work: string;
let stamp = 0;

beforeAll(async () => {
  stack = await sharedStack();
  work = mkdtempSync(join(tmpdir(), 'r2-backup-restore-metadata-'));
});

/** A backup whose record names the export at `exportDir` (storeExportBackup), under the next
 *  free name. */
async function storeBackup(
  exportDir: string | undefined,
  { replacement, recipient }: { replacement?: string; recipient?: string } = {},
): Promise<{ backupFile: string }> {
  stamp++;
  const backupFile = `20260101-0000${String(stamp).padStart(2, '0')}.tar.zst${recipient ? '.age' : ''}`;
  await storeExportBackup(stack, TOKEN, {
    work,
    backupFile,
    repo: 'octo-org/tenant-a',
    exportDir,
    replacement,
    recipient,
  });
  return { backupFile };
}

const restoreMetadata = (backupFile: string, target: string, ...flags: string[]) =>
  runCli(
    ['restore', '--metadata', '--tenant', TENANT, '--backup', backupFile, '--target', target, ...flags],
    fullEnv(stack, TOKEN),
  );

/** A target holding one file of its own, to show it was left as it was. */
function existingTarget(): string {
  const target = join(mkdtempSync(join(work, 'kept-')), 'target');
  mkdirSync(target);
  writeFileSync(join(target, 'mine.txt'), 'mine\n');
  return target;
}

const expectLeftAsItWas = (target: string): void => {
  expect(readdirSync(target)).toEqual(['mine.txt']);
  expect(readFileSync(join(target, 'mine.txt'), 'utf8')).toBe('mine\n');
};

describe('a restored export', () => {
  let fixture: ExportFixture;
  let exportDir: string;
  let target: string;
  let run: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    fixture = exportFixture();
    exportDir = join(work, 'export');
    writeExport(exportDir, fixture);
    const { backupFile } = await storeBackup(exportDir);
    target = join(work, 'restored');
    run = await restoreMetadata(backupFile, target);
  });

  test('the CLI reports the counts and the target', () => {
    expect(run.stderr).not.toContain('Warning');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`into ${target}`);
    expect(run.stdout).toContain(`${fixture.items.issues.length} issues`);
    expect(run.stdout).toContain(`${fixture.items.review_comments.length} review comments`);
    expect(run.stdout).toContain(`${fixture.assets.size} assets`);
    expect(run.stdout).toContain('complete');
  });

  test('the target holds the rendering and the export exactly as it was packed', () => {
    expect(readdirSync(target).sort()).toEqual(['README.md', 'issues', 'json', 'pulls', 'releases']);
    expect(readFileSync(join(target, 'json', MANIFEST_FILE))).toEqual(
      readFileSync(join(exportDir, MANIFEST_FILE)),
    );
    for (const id of ASSET_IDS) {
      const exported = readFileSync(join(target, 'json', assetPath(RELEASE_ID, id)));
      expect(exported).toEqual(fixture.assets.get(id));
      const [placed] = readdirSync(join(target, 'releases', String(RELEASE_ID))).filter((name) =>
        name.startsWith(`${id}-`),
      );
      expect(readFileSync(join(target, 'releases', String(RELEASE_ID), placed!))).toEqual(
        fixture.assets.get(id),
      );
    }
    const readme = readFileSync(join(target, 'README.md'), 'utf8');
    for (const { number } of fixture.items.issues) expect(readme).toContain(`](issues/${String(number)}.md)`);
    expect(readFileSync(join(target, 'pulls', '2.md'), 'utf8')).toContain('APPROVED by @carol');
  });
});

test('--json gives the counts, the export and whether it is partial; a partial export warns', async () => {
  const exportDir = join(work, 'partial-export');
  const fixture = exportFixture(true);
  writeExport(exportDir, fixture);
  const { backupFile } = await storeBackup(exportDir);
  const target = join(work, 'partial');
  const run = await restoreMetadata(backupFile, target, '--json');
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(`Warning: the export is partial (${fixture.manifest.partial_reason!})`);
  const result = JSON.parse(run.stdout) as Record<string, unknown>;
  expect(result).toMatchObject({
    backup_file: backupFile,
    key: archiveKey(TENANT, metaFileName(backupFile)),
    target,
    repository: fixture.manifest.repository,
    partial: true,
    partial_reason: fixture.manifest.partial_reason,
    counts: fixture.manifest.counts,
  });
});

test('the export of an encrypted backup is restored with its identity, and refused without one', async () => {
  const key = join(work, 'age.key');
  await exec('age-keygen', ['-o', key]);
  const recipient = (await exec('age-keygen', ['-y', key])).stdout.trim();
  const exportDir = join(work, 'encrypted-export');
  const fixture = exportFixture();
  writeExport(exportDir, fixture);
  const { backupFile } = await storeBackup(exportDir, { recipient });
  const refused = join(work, 'no-identity');
  const without = await restoreMetadata(backupFile, refused);
  expect(without.code).not.toBe(0);
  expect(without.stderr).toContain('is encrypted with age');
  expect(existsSync(refused)).toBe(false);
  const target = join(work, 'decrypted');
  const run = await restoreMetadata(backupFile, target, '--identity', key);
  expect(run.stderr).toContain(archiveKey(TENANT, metaFileName(backupFile)));
  expect(run.code).toBe(0);
  expect(readFileSync(join(target, 'json', MANIFEST_FILE), 'utf8')).toBe(JSON.stringify(fixture.manifest));
  expect(readdirSync(join(target, 'issues'))).toHaveLength(fixture.items.issues.length);
});

test('a replaced export object (not the size and hash of its record) writes nothing', async () => {
  const exportDir = join(work, 'replaced-export');
  writeExport(exportDir, exportFixture());
  const other = join(work, 'other-export');
  const fixture = exportFixture();
  fixture.items.issues.push({ number: 9, title: 'planted' });
  writeExport(other, fixture);
  const planted = join(work, 'planted.tar.zst');
  await packExport(other, planted);
  const { backupFile } = await storeBackup(exportDir, { replacement: planted });
  const target = existingTarget();
  const run = await restoreMetadata(backupFile, target, '--force');
  expect(run.code).toBe(EXIT.problems);
  expect(run.stderr).toContain('does not match its metadata');
  expectLeftAsItWas(target);
});

test('an export holding a symbolic link is refused and the target left as it was', async () => {
  const exportDir = join(work, 'linked-export');
  writeExport(exportDir, exportFixture());
  symlinkSync('/etc/passwd', join(exportDir, 'assets', String(RELEASE_ID), '99'));
  expect((await exec('tar', ['--zstd', '-tvf', await packedPath(exportDir)])).stdout).toContain(
    '-> /etc/passwd',
  );
  const { backupFile } = await storeBackup(exportDir);
  const target = existingTarget();
  const run = await restoreMetadata(backupFile, target, '--force');
  expect(run.code).toBe(EXIT.problems);
  expect(run.stderr).toContain('is a symbolic link');
  expect(run.stderr).toContain('Nothing was restored');
  expectLeftAsItWas(target);
});

async function packedPath(exportDir: string): Promise<string> {
  const file = `${exportDir}.tar.zst`;
  await packExport(exportDir, file);
  return file;
}

test('a backup made without include-metadata says so', async () => {
  const { backupFile } = await storeBackup(undefined);
  const target = join(work, 'none');
  const run = await restoreMetadata(backupFile, target);
  expect(run.code).toBe(EXIT.problems);
  expect(run.stderr).toContain(
    `Backup ${backupFile} has no metadata export: it was made without include-metadata`,
  );
  expect(existsSync(target)).toBe(false);
});

test('--history with --metadata is a usage error, before anything is asked of the Worker', async () => {
  const target = join(work, 'both');
  const run = await runCli(
    ['restore', '--metadata', '--history', '--tenant', TENANT, '--latest', '--target', target],
    workerEnv(stack, TOKEN),
  );
  expect(run.code).toBe(EXIT.usage);
  expect(run.stderr).toContain('--history, --wiki and --metadata restore different things');
  expect(existsSync(target)).toBe(false);
});
