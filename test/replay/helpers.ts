// The replay suites' setup: a metadata export of a repository of the fake GitHub, written as the
// exporter lays it out (core/github/export-format.ts) from the fake's own views of its items, and
// the target's state in a form that compares with the source's.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ADDED_FIELDS,
  EXPORT_FORMAT,
  EXPORT_KINDS,
  MANIFEST_FILE,
  REPOSITORY_FILE,
  assetPath,
  kindFile,
  type ExportKind,
  type ExportManifest,
} from '../../core/github/export-format.js';
import type { FakeGitHub } from '../helpers/github-api/server.js';
import * as view from '../helpers/github-api/views.js';

type Json = Record<string, unknown>;

const jsonl = (items: Json[]): string => items.map((item) => `${JSON.stringify(item)}\n`).join('');

/** Writes the export of `fullName` into `dir` (which it creates); `change` may edit the items. */
export async function writeExport(
  github: FakeGitHub,
  fullName: string,
  dir: string,
  change: (items: Record<ExportKind, Json[]>) => void = () => {},
): Promise<void> {
  const repo = github.repo(fullName);
  const o = { api: github.apiUrl, uploads: github.uploadsUrl };
  const all = [...repo.items.values()];
  const items: Record<ExportKind, Json[]> = {
    labels: repo.labels.map((l) => view.label(o, repo, l)),
    milestones: repo.milestones.map((m) => view.milestone(o, repo, m)),
    issues: all.filter((i) => !i.pull).map((i) => view.issue(o, repo, i)),
    pulls: all.filter((i) => i.pull).map((i) => view.pull(o, repo, i, true)),
    issue_comments: repo.issueComments.map((c) => ({
      ...view.issueComment(o, repo, c),
      [ADDED_FIELDS.issueNumber]: c.issue_number,
    })),
    reviews: [],
    review_comments: [],
    releases: repo.releases.map((r) => view.release(o, repo, r)),
  };
  change(items);
  await mkdir(dir, { recursive: true });
  for (const kind of EXPORT_KINDS) await writeFile(join(dir, kindFile(kind)), jsonl(items[kind]));
  for (const release of repo.releases) {
    for (const asset of release.assets) {
      const file = join(dir, assetPath(release.id, asset.id));
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, asset.bytes);
    }
  }
  const counts = Object.fromEntries(
    EXPORT_KINDS.map((k) => [k, items[k].length]),
  ) as ExportManifest['counts'];
  counts.assets = repo.releases.reduce((n, r) => n + r.assets.length, 0);
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    repository: repo.settings.full_name,
    exported_at: new Date().toISOString(),
    partial: false,
    counts,
    cursors: {},
    requests: 0,
  };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  await writeFile(join(dir, REPOSITORY_FILE), JSON.stringify(view.repository(o, repo)));
}

/** What a replay must reproduce of a repository, in a form that compares across the two (issue
 *  numbers and ids differ; the order of issues, comments and releases does not). */
export function contentOf(github: FakeGitHub, fullName: string) {
  const repo = github.repo(fullName);
  const labelName = (id: number) => repo.labels.find((l) => l.id === id)?.name;
  const milestoneTitle = (n: number | null) => repo.milestones.find((m) => m.number === n)?.title ?? null;
  const issues = [...repo.items.values()].filter((i) => !i.pull).sort((a, b) => a.number - b.number);
  return {
    labels: repo.labels.map(({ name, color, description }) => ({ name, color, description })),
    milestones: repo.milestones.map(({ title, state, description, due_on }) => ({
      title,
      state,
      description,
      due_on,
    })),
    issues: issues.map((i) => ({
      title: i.title,
      state: i.state,
      state_reason: i.state_reason,
      labels: i.labels.map(labelName).sort(),
      milestone: milestoneTitle(i.milestone),
      comments: repo.issueComments.filter((c) => c.issue_number === i.number).length,
    })),
    releases: repo.releases.map((r) => ({
      tag_name: r.tag_name,
      target_commitish: r.target_commitish,
      name: r.name,
      draft: r.draft,
      prerelease: r.prerelease,
      assets: r.assets.map((a) => ({
        name: a.name,
        content_type: a.content_type,
        bytes: a.bytes.toString('base64'),
      })),
    })),
  };
}
