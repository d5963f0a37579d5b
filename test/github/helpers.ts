// Shared by the exporter's tests: a fake GitHub on a clock the test moves (the exporter's cursors
// are on the same clock, as GitHub's and the runner's are within the skew margin), an export run
// into a fresh directory, and an export read back whole for comparisons.
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitHubClient, type GitHubApi } from '../../core/github/client.js';
import { exportRepository, type ExportOptions } from '../../core/github/export.js';
import {
  ASSETS_DIR,
  EXPORT_KINDS,
  KEY_OF,
  MANIFEST_FILE,
  REPOSITORY_FILE,
  kindFile,
  type ExportKind,
  type ExportManifest,
} from '../../core/github/export-format.js';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api/server.js';

export const OWNER = 'octo-org';
export const REPO = 'project';
export const FULL_NAME = `${OWNER}/${REPO}`;

export interface World {
  github: FakeGitHub;
  api: GitHubApi;
  /** The clock of GitHub's model and of the exporter (ms). */
  now: () => number;
  advance(ms: number): void;
}

export async function startWorld(): Promise<World> {
  let t = Date.now();
  const now = (): number => t;
  const github = await startFakeGitHub({ now });
  return {
    github,
    api: createGitHubClient({ token: github.token, baseUrl: github.apiUrl }),
    now,
    advance: (ms) => void (t += ms),
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export interface ExportRun {
  dir: string;
  manifest: ExportManifest;
  logs: string[];
  /** API requests the fake GitHub saw during the run (its own count). */
  apiRequests: number;
}

export async function runExport(
  world: World,
  options: Partial<Omit<ExportOptions, 'previous'>> & { previous?: ExportRun | { dir: string } } = {},
): Promise<ExportRun> {
  const dir = await mkdtemp(join(tmpdir(), 'github-export-'));
  const logs: string[] = [];
  const before = world.github.requests.count({ listener: 'api' });
  const { previous, ...rest } = options;
  const manifest = await exportRepository({
    api: world.api,
    owner: OWNER,
    repo: REPO,
    dir,
    log: (message) => logs.push(message),
    maxWaitSeconds: 30,
    now: world.now,
    ...(previous ? { previous: { dir: previous.dir, backupFile: `${previous.dir}.meta.tar.zst` } } : {}),
    ...rest,
  });
  return { dir, manifest, logs, apiRequests: world.github.requests.count({ listener: 'api' }) - before };
}

export interface ExportContent {
  repository: unknown;
  /** Each kind's items sorted by key. */
  kinds: Record<ExportKind, Record<string, unknown>[]>;
  /** assets/{release}/{asset} -> bytes. */
  assets: Map<string, Buffer>;
  manifest: ExportManifest;
}

export async function readExport(dir: string): Promise<ExportContent> {
  const kinds = {} as ExportContent['kinds'];
  for (const kind of EXPORT_KINDS) {
    const text = await readFile(join(dir, kindFile(kind)), 'utf8');
    const items = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const key = KEY_OF[kind];
    kinds[kind] = items.sort((a, b) => (a[key] as number) - (b[key] as number));
  }
  const assets = new Map<string, Buffer>();
  const releases = await readdir(join(dir, ASSETS_DIR)).catch(() => [] as string[]);
  for (const release of releases) {
    for (const asset of await readdir(join(dir, ASSETS_DIR, release))) {
      assets.set(`${ASSETS_DIR}/${release}/${asset}`, await readFile(join(dir, ASSETS_DIR, release, asset)));
    }
  }
  return {
    repository: JSON.parse(await readFile(join(dir, REPOSITORY_FILE), 'utf8')),
    kinds,
    assets,
    manifest: JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ExportManifest,
  };
}

/**
 * An export's content without its manifest (which says how the run went, not what it holds) and
 * without the assets' download_count: releases are fetched whole each run, and that counter is
 * live on GitHub (the exporter's own downloads raise it).
 */
export function contentOf({ repository, kinds, assets }: ExportContent) {
  const releases = kinds.releases.map((release) => ({
    ...release,
    assets: (release.assets as Record<string, unknown>[]).map((asset) => {
      const copy = { ...asset };
      delete copy.download_count;
      return copy;
    }),
  }));
  return { repository, kinds: { ...kinds, releases }, assets };
}

export const keys = (items: Record<string, unknown>[], field: 'id' | 'number' = 'id'): number[] =>
  items.map((item) => item[field] as number);
