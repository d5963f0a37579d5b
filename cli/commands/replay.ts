// r2-backup replay: recreate a backup's metadata export (issues with comments, labels,
// milestones, releases with assets) in a GitHub repository. The GitHub token comes from the
// environment only: a flag would show in `ps` to other users of the machine.
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitHubClient, GITHUB_API_URL } from '../../core/github/client.js';
import { applyLimits } from '../../core/github/limits.js';
import { describePlan, plannedWrites, type ReplayPlan } from '../../core/github/replay-plan.js';
import { REPOSITORY_NAME } from '../../core/github/replay-export.js';
import { DEFAULT_WRITE_GAP_MS, replayExport, type ReplayResult } from '../../core/github/replay.js';
import { EXPORT_JSON_DIR, restoreBackupMetadata } from '../../core/restore/metadata.js';
import { newestArchiveOf } from '../../core/restore/unrecorded.js';
import type { Command, OptionValues } from '../command.js';
import { wholeNumber } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  archiveSource,
  connect,
  recordLister,
  tenantAndBucket,
} from '../connection.js';
import { IDENTITY_HELP, identitiesOf } from '../identity.js';
import { UsageError } from '../usage.js';
import type { BackupSelector } from '../../core/restore/selection.js';
import { OPTION_NAMES } from './restore.js';

export const WRITE_GAP_VARIABLE = 'R2_BACKUP_GITHUB_WRITE_GAP_MS';
const DEFAULT_MAX_WAIT_SECONDS = 900;

/** The token from GITHUB_TOKEN, else GH_TOKEN (as the gh CLI reads them). Never printed. */
function githubToken(): string {
  const token = process.env.GITHUB_TOKEN?.trim() || process.env.GH_TOKEN?.trim();
  if (!token)
    throw new UsageError(
      'replay needs a GitHub token that may write to the target repository: set GITHUB_TOKEN (or GH_TOKEN)',
    );
  return token;
}

function targetOf(values: OptionValues): { owner: string; repo: string } {
  const to = values.to;
  if (typeof to !== 'string' || !REPOSITORY_NAME.test(to))
    throw new UsageError('--to must name the target repository as owner/name');
  const [owner, repo] = to.split('/') as [string, string];
  return { owner, repo };
}

function writeGapMs(): number {
  const setting = process.env[WRITE_GAP_VARIABLE];
  if (setting === undefined || setting === '') return DEFAULT_WRITE_GAP_MS;
  if (!/^\d{1,6}$/.test(setting))
    throw new UsageError(`${WRITE_GAP_VARIABLE} must be a whole number of milliseconds`);
  return Number(setting);
}

/** The export in DIR, or in DIR/json as `restore --metadata` leaves it. */
async function exportDirOf(dir: string): Promise<string> {
  const inJson = join(dir, EXPORT_JSON_DIR);
  const nested = await lstat(join(inJson, 'manifest.json')).catch(() => undefined);
  return nested?.isFile() ? inJson : dir;
}

const countsOf = (plan: ReplayPlan) => {
  const part = (p: { create: unknown[]; existing: number }) => ({
    create: p.create.length,
    existing: p.existing,
  });
  return {
    labels: part(plan.labels),
    milestones: part(plan.milestones),
    issues: { ...part(plan.issues), close: plan.close.length },
    comments: part(plan.comments),
    releases: { ...part(plan.releases), tag_taken: plan.tagTaken.length },
    assets: part(plan.assets),
    pulls_not_replayed: plan.pulls,
    pull_comments_not_replayed: plan.pullComments,
    invalid: plan.invalid,
  };
};

function summary(result: ReplayResult): string {
  const { created, closed, failed, plan } = result;
  if (plannedWrites(plan) === 0)
    return `Nothing to replay: ${plan.target} already has everything of ${plan.source}.`;
  const parts = Object.entries(created).map(([kind, count]) => `${count} ${kind}`);
  return (
    `Replayed ${plan.source} into ${plan.target}: created ${parts.join(', ')}; closed ${closed} issues` +
    (failed.length > 0 ? `; ${failed.length} refused by GitHub (see the warnings)` : '') +
    '.'
  );
}

export const replay: Command = {
  name: 'replay',
  summary: "recreate a backup's issues, labels, milestones and releases in a repository",
  help: `Usage: r2-backup replay --tenant T [--bucket B] [--backup FILE | --latest | --commit PREFIX]
                        --to OWNER/REPO [--dry-run] [--json]
       r2-backup replay --from-dir DIR --to OWNER/REPO [--dry-run] [--json]

Recreates the metadata export of a backup made with include-metadata in the repository
OWNER/REPO: labels (name, color, description), milestones, issues in number order with their
labels, milestone and comments (closed when the original is), and releases with their assets.
GitHub's API creates everything in the token's name and at the time of the request, so each
body starts with a quoted line giving the original author, date and a link to the original.
Items the export marks as deleted are replayed too: a replay is how they come back.

Pull requests are not replayed (their branches are not in the export): the plan counts them,
and their text is in \`r2-backup restore --metadata\`.

Each created issue, comment and release ends with a hidden marker naming its original, and
labels and milestones are matched by name: the target is read first and what it already has
is skipped. Running a replay again creates nothing; a replay cut short (a rate limit it could
not wait for) finishes when run again, without duplicates.

  --to OWNER/REPO    the target repository (required); the token must be able to write to it
  --tenant T         tenant (required unless --from-dir; default: the R2_BACKUP_TENANT
                     environment variable)
  --bucket B         bucket (default: {tenant}-github-backup)
  --backup FILE      the backup of that file name (its .meta.tar.zst export is replayed)
  --latest           the newest backup (the default)
  --commit PREFIX    the newest backup of the commit starting with PREFIX (4+ hex characters)
  --from-dir DIR     replay an export already on disk instead: the directory that
                     \`restore --metadata --target DIR\` wrote (its json/ folder is used), or
                     an extracted export (manifest.json, {kind}.jsonl, assets/)
  --dry-run          print the plan (counts to create and already there per kind, then one
                     line per item to create) and write nothing to GitHub
  --max-wait S       the longest wait for a GitHub rate limit's reset, in seconds (default
                     ${DEFAULT_MAX_WAIT_SECONDS}); a longer one stops the replay (run it again later)
  --allow-unverified replay an export whose record the Worker does not vouch for
  --json             print {source, target, dry_run, plan, items, created, closed, failed}
${IDENTITY_HELP}

GitHub (environment only, never a flag):
  GITHUB_TOKEN or GH_TOKEN        a token with write access to the target's issues and
                                  contents (releases)
  GITHUB_API_URL                  the REST API (default ${GITHUB_API_URL}; a GitHub Enterprise
                                  Server's https://HOST/api/v3)
  ${WRITE_GAP_VARIABLE}   the pause between two writes (default ${DEFAULT_WRITE_GAP_MS}, as
                                  GitHub asks of requests that create content)

${CONNECTION_HELP}`,
  options: {
    ...TENANT_OPTIONS,
    ...CONNECTION_OPTIONS,
    backup: { type: 'string' },
    latest: { type: 'boolean' },
    commit: { type: 'string' },
    'from-dir': { type: 'string' },
    to: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'max-wait': { type: 'string' },
    'allow-unverified': { type: 'boolean' },
    identity: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const to = targetOf(values);
    const fromDir = values['from-dir'];
    if (
      fromDir !== undefined &&
      (values.backup !== undefined || values.latest || values.commit !== undefined)
    )
      throw new UsageError('--from-dir replays a directory: it takes none of --backup, --latest, --commit');
    if (fromDir === '') throw new UsageError('--from-dir needs a directory');
    const token = githubToken();
    const gapMs = writeGapMs();
    const maxWaitSeconds = wholeNumber(values, 'max-wait', 86_400) ?? DEFAULT_MAX_WAIT_SECONDS;
    const api = createGitHubClient({
      token,
      baseUrl: process.env.GITHUB_API_URL?.trim() || GITHUB_API_URL,
    });
    applyLimits(api, { log: (line) => console.error(line), maxWaitSeconds });
    const dryRun = values['dry-run'] === true;
    const replayFrom = (exportDir: string) =>
      replayExport({
        api,
        exportDir,
        to,
        dryRun,
        writeGapMs: gapMs,
        log: (line) => console.error(line),
        warn: (message) => console.error(`Warning: ${message}`),
      });
    const result =
      typeof fromDir === 'string'
        ? await replayFrom(await exportDirOf(fromDir))
        : await withRestoredExport(values, replayFrom);
    report(result, values.json === true);
    return result.failed.length > 0 ? 1 : 0;
  },
};

/** As restore's, except that none given means --latest. */
function selectorOf(values: OptionValues): BackupSelector {
  const given = [values.backup !== undefined, values.latest === true, values.commit !== undefined];
  if (given.filter(Boolean).length > 1)
    throw new UsageError('choose the backup with one of --backup, --latest, --commit');
  if (typeof values.backup === 'string') return { backup: values.backup };
  if (typeof values.commit === 'string') return { commit: values.commit };
  return { latest: true };
}

/** The chosen backup's export, verified and extracted into a temporary directory (removed
 *  however the replay ends). */
async function withRestoredExport(
  values: OptionValues,
  replayFrom: (exportDir: string) => Promise<ReplayResult>,
): Promise<ReplayResult> {
  const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
  const selector = selectorOf(values);
  const connection = connect(values as Record<string, string>);
  if ('latest' in selector) selector.newestArchive = newestArchiveOf(tenant, bucket, connection);
  const scratch = await mkdtemp(join(tmpdir(), 'r2-backup-replay-'));
  try {
    const target = join(scratch, 'export');
    await restoreBackupMetadata({
      listRecords: recordLister(connection, tenant, bucket, 'replay'),
      source: archiveSource(connection, 'replay'),
      tenant,
      bucket,
      selector,
      target,
      allowUnverified: values['allow-unverified'] === true,
      names: OPTION_NAMES,
      identities: identitiesOf(values),
      log: (line) => console.error(line),
      warn: (message) => console.error(`Warning: ${message}`),
    });
    return await replayFrom(join(target, EXPORT_JSON_DIR));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function report(result: ReplayResult, json: boolean): void {
  const { plan } = result;
  if (json) {
    const output = {
      source: plan.source,
      target: plan.target,
      dry_run: result.dryRun,
      plan: countsOf(plan),
      items: describePlan(plan).filter((line) => /^[+~!] /.test(line)),
      ...(!result.dryRun && { created: result.created, closed: result.closed, failed: result.failed }),
    };
    console.log(JSON.stringify(output, null, 2));
    return;
  }
  if (result.dryRun) {
    for (const line of describePlan(plan)) console.log(line);
    console.log('Dry run: nothing was written to GitHub.');
    return;
  }
  console.log(summary(result));
}
