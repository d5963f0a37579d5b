// r2-backup prune: apply a retention policy through the Worker, which owns deletion.
import type { Command } from '../command.js';
import { wholeNumber } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  connect,
  requireWorker,
  tenantAndBucket,
} from '../connection.js';
import { Progress } from '../progress.js';
import { UsageError } from '../usage.js';
import { WorkerApiError } from '../../core/worker-api/client.js';

const RULES = ['keep-last', 'keep-days', 'keep-daily', 'keep-weekly', 'keep-monthly'];

export const prune: Command = {
  name: 'prune',
  summary: 'delete the backups a retention policy does not keep',
  help: `Usage: r2-backup prune --tenant T [--bucket B] [--keep-last N] [--keep-days D]
                       [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--dry-run] [--json]

A backup is kept when any rule keeps it, as with restic forget; the newest backup is never
deleted, nor one the Worker's MIN_RETENTION_DAYS still locks. Deleting a backup deletes its
archive, record and notifications. Pruning needs a credential with the maintain role (or the
admin token); a backup-role token may only --dry-run. --dry-run prints what would go and
deletes nothing.

  --tenant T         tenant (required; default: the R2_BACKUP_TENANT environment variable)
  --bucket B         bucket (default: {tenant}-github-backup)
  --keep-last N      the N newest backups
  --keep-days D      every backup less than D days older than the newest
  --keep-daily N     the newest of each of the last N days that have backups (UTC)
  --keep-weekly N    ... of the last N ISO weeks
  --keep-monthly N   ... of the last N months
  --dry-run          delete nothing
  --json             print {tenant, bucket, dry_run, policy, kept: [{backup_file, reasons}],
                     deleted: [{backup_file, keys}], count_kept, count_deleted} instead
                     (README: "JSON output")

${CONNECTION_HELP}`,
  options: {
    ...TENANT_OPTIONS,
    ...CONNECTION_OPTIONS,
    ...Object.fromEntries(RULES.map((rule) => [rule, { type: 'string' as const }])),
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const policy: Record<string, number> = {};
    for (const rule of RULES) {
      const value = wholeNumber(values, rule);
      if (value !== undefined) policy[rule.replace('-', '_')] = value;
    }
    if (Object.keys(policy).length === 0)
      throw new UsageError(`give at least one of --${RULES.join(', --')}`);
    const dryRun = values['dry-run'] === true;
    const worker = requireWorker(connect(values as Record<string, string>), 'prune');
    // The Worker prunes in one request and says what it deleted when done: until then, the time.
    const progress = new Progress({
      label: `prune: the Worker is applying the policy to tenant ${tenant} (one request)`,
      unit: 'elapsed',
    });
    const answer = await worker
      .prune(tenant, bucket, policy, dryRun)
      .finally(() => progress.stop())
      .catch((error: unknown) => {
        // The tenant was allowed (a dry run works) but deleting was not: say which role is needed.
        if (
          error instanceof WorkerApiError &&
          error.status === 403 &&
          !dryRun &&
          error.reason?.includes('maintain role')
        ) {
          throw new Error(
            `${error.reason}. Nothing was deleted. Use a token created with --role maintain (or the admin token); ` +
              "the Worker's own retention (RETENTION_POLICIES) needs none.",
            { cause: error }, // a refusal: exit code 3
          );
        }
        throw error;
      });
    if (values.json) {
      const { tenant: t, bucket: b, dry_run, kept, deleted, count_kept, count_deleted } = answer;
      const result = { tenant: t, bucket: b, dry_run, policy, kept, deleted, count_kept, count_deleted };
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    for (const { backup_file, reasons } of answer.kept)
      console.log(`keep    ${backup_file}  (${reasons.join(', ')})`);
    for (const { backup_file } of answer.deleted)
      console.log(`${dryRun ? 'would delete' : 'deleted'} ${backup_file}`);
    console.log(
      `${dryRun ? 'Dry run: ' : ''}${answer.count_kept} kept, ${answer.count_deleted} ${dryRun ? 'would be deleted' : 'deleted'}`,
    );
    return 0;
  },
};
