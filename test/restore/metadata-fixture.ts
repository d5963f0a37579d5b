// A metadata export written by hand (export-format.ts's layout): a few issues, a pull request
// with reviews, review comments and comments, a release with two assets (and one the export
// does not hold), and hostile text: titles with line breaks, an HTML comment in a body, asset
// names with `../`. The items are written out of order, as an incremental export may hold them.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  EXPORT_FORMAT,
  MANIFEST_FILE,
  REPOSITORY_FILE,
  assetPath,
  kindFile,
  type ExportKind,
  type ExportManifest,
} from '../../core/github/export-format.js';

import { archiveKey, metaFileName } from '../../common/naming.js';
import { recipientFingerprint } from '../../core/crypto/recipients.js';
import type { LocalStack } from '../../scripts/local-stack.js';
import { aws, COMMIT } from '../action/helpers.js';
import { apiClient } from '../worker/helpers.js';

const exec = promisify(execFile);
/** Where the backups of storeExportBackup go. */
const TENANT = 'tenant-a';
const BUCKET = 'tenant-a-github-backup';

export const RELEASE_ID = 31;
export const ASSET_IDS = [41, 42] as const;
export const MISSING_ASSET_ID = 43;
export const HOSTILE_TITLE = 'Crash on start\n# Injected heading\r\n<!-- hide -->';
export const HIDDEN_BODY = 'Visible part.\n<!-- a hidden part -->\n<script>alert(1)</script>';

export interface ExportFixture {
  manifest: ExportManifest;
  items: Record<ExportKind, Record<string, unknown>[]>;
  /** Asset id -> its bytes. */
  assets: Map<number, Buffer>;
}

export function exportFixture(partial = false): ExportFixture {
  const user = (login: string) => ({ login, id: login.length });
  const items: ExportFixture['items'] = {
    labels: [{ id: 11, name: 'bug', color: 'd73a4a', description: 'Something is broken' }],
    milestones: [{ id: 21, number: 1, title: 'v1', state: 'open', due_on: '2026-12-01T00:00:00Z' }],
    issues: [
      {
        number: 3,
        title: 'Docs',
        state: 'closed',
        user: user('bob'),
        body: '',
        labels: [],
        created_at: '2026-01-03T00:00:00Z',
      },
      {
        number: 1,
        title: HOSTILE_TITLE,
        state: 'open',
        user: user('mallory'),
        body: HIDDEN_BODY,
        labels: [{ id: 11, name: 'bug' }],
        milestone: { id: 21, number: 1, title: 'v1' },
        created_at: '2026-01-01T00:00:00Z',
        updated_at: '2026-01-02T00:00:00Z',
      },
    ],
    pulls: [
      {
        number: 2,
        title: 'Add feature',
        state: 'closed',
        user: user('alice'),
        body: 'Implements it.',
        head: { ref: 'feature', sha: 'a'.repeat(40) },
        base: { ref: 'main', sha: 'b'.repeat(40) },
        merged_at: '2026-01-05T00:00:00Z',
        created_at: '2026-01-04T00:00:00Z',
      },
    ],
    issue_comments: [
      {
        id: 102,
        issue_number: 1,
        user: user('bob'),
        body: 'Second comment',
        created_at: '2026-01-02T10:00:00Z',
      },
      {
        id: 101,
        issue_number: 1,
        user: user('alice'),
        body: 'First comment',
        created_at: '2026-01-02T09:00:00Z',
      },
      { id: 103, issue_number: 2, user: user('bob'), body: 'Looks good', created_at: '2026-01-04T12:00:00Z' },
    ],
    reviews: [
      {
        id: 201,
        pull_number: 2,
        user: user('carol'),
        state: 'APPROVED',
        body: 'Ship it',
        submitted_at: '2026-01-04T13:00:00Z',
      },
    ],
    review_comments: [
      {
        id: 301,
        pull_number: 2,
        pull_request_review_id: 201,
        user: user('carol'),
        path: 'src/feature.ts',
        line: 7,
        body: 'Nice line',
        created_at: '2026-01-04T13:00:00Z',
      },
    ],
    releases: [
      {
        id: RELEASE_ID,
        tag_name: 'v1.0.0',
        name: 'First\nrelease',
        draft: false,
        prerelease: false,
        author: user('alice'),
        body: 'Notes',
        created_at: '2026-01-06T00:00:00Z',
        published_at: '2026-01-06T01:00:00Z',
        assets: [
          { id: ASSET_IDS[0], name: '../../etc/passwd', size: 100 },
          { id: ASSET_IDS[1], name: '.hidden build.zip', size: 200 },
          { id: MISSING_ASSET_ID, name: 'not-exported.bin', size: 5 },
        ],
      },
    ],
  };
  const assets = new Map<number, Buffer>(ASSET_IDS.map((id) => [id, randomBytes(1000 + id)]));
  const counts = Object.fromEntries(Object.entries(items).map(([kind, list]) => [kind, list.length]));
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    repository: 'octo-org/tenant-a',
    exported_at: '2026-01-07T00:00:00Z',
    partial,
    ...(partial ? { partial_reason: 'rate limit until 2026-01-07T01:00:00Z' } : {}),
    counts: { ...(counts as Record<ExportKind, number>), assets: assets.size },
    cursors: {},
    requests: 12,
  };
  return { manifest, items, assets };
}

/** Writes the fixture as an export directory at `dir` (created). */
export function writeExport(dir: string, fixture: ExportFixture): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(fixture.manifest));
  writeFileSync(
    join(dir, REPOSITORY_FILE),
    JSON.stringify({
      full_name: fixture.manifest.repository,
      description: 'Backed up\nrepository',
      topics: ['backup', 'r2'],
      default_branch: 'main',
    }),
  );
  for (const [kind, list] of Object.entries(fixture.items)) {
    writeFileSync(
      join(dir, kindFile(kind as ExportKind)),
      list.map((item) => `${JSON.stringify(item)}\n`).join(''),
    );
  }
  for (const [id, bytes] of fixture.assets) {
    const path = join(dir, assetPath(RELEASE_ID, id));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, bytes);
  }
}

/** The export directory as `tar --zstd` (GNU tar), encrypted with the age tool for
 *  `recipient` when given, with its size and SHA-256. */
export async function packExport(
  dir: string,
  file: string,
  recipient?: string,
): Promise<{ size: number; sha256: string }> {
  await exec('tar', ['--zstd', '-cf', file, '-C', dir, '.']);
  if (recipient) {
    await exec('age', ['-r', recipient, '-o', `${file}.age`, file]);
    renameSync(`${file}.age`, file);
  }
  const bytes = readFileSync(file);
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export interface StoredExportBackup {
  /** The export's key, size and SHA-256 as recorded (absent for a backup without an export). */
  key?: string;
  size?: number;
  sha256?: string;
}

/**
 * A backup of tenant-a (a small archive) on the local stack, recorded through the Worker, whose
 * record names the export at `exportDir` (none when absent). The export object is `replacement`
 * when given, the record keeping the export's own size and hash; with `recipient`, archive and
 * export are age files for it.
 */
export async function storeExportBackup(
  stack: LocalStack,
  token: string,
  options: {
    work: string;
    backupFile: string;
    repo: string;
    exportDir?: string;
    replacement?: string;
    recipient?: string;
  },
): Promise<StoredExportBackup> {
  const { backupFile, recipient } = options;
  const dir = mkdtempSync(join(options.work, 'backup-'));
  mkdirSync(join(dir, 'tree'));
  writeFileSync(join(dir, 'tree', 'file.txt'), 'content\n');
  const archive = join(dir, 'archive.tar.zst');
  const archiveDigest = await packExport(join(dir, 'tree'), archive, recipient);
  await aws(
    stack,
    's3',
    'cp',
    archive,
    `s3://${BUCKET}/${archiveKey(TENANT, backupFile)}`,
    '--only-show-errors',
  );
  const record: Record<string, unknown> = {
    tenant: TENANT,
    bucket: BUCKET,
    repo: options.repo,
    branch: 'main',
    commit: COMMIT,
    backup_file: backupFile,
    action: 'backup',
    compression: 'zstd',
    ...archiveDigest,
    ...(recipient ? { encrypted: true, recipients: [recipientFingerprint(recipient)] } : {}),
  };
  let stored: StoredExportBackup = {};
  if (options.exportDir) {
    const packed = join(dir, 'export.tar.zst');
    const digest = await packExport(options.exportDir, packed, recipient);
    const key = archiveKey(TENANT, metaFileName(backupFile));
    await aws(
      stack,
      's3',
      'cp',
      options.replacement ?? packed,
      `s3://${BUCKET}/${key}`,
      '--only-show-errors',
    );
    Object.assign(record, { meta_key: key, meta_size: digest.size, meta_sha256: digest.sha256 });
    stored = { key, ...digest };
  }
  const answer = await apiClient(stack, token).post('/api/github/backup', record);
  if (answer.status !== 201)
    throw new Error(`The record was refused: ${answer.status} ${await answer.text()}`);
  return stored;
}
