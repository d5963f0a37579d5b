// verify's archives without a record: with R2's S3 keys, what their object metadata would record
// (a dry run), and with --repair, recorded after the fact through the Worker (core/r2/repair.ts).
import { describeRepair, repairCatalogue, type RepairOutcome } from '../../core/r2/repair.js';
import { requireWorker, type Connection } from '../connection.js';
import { UsageError } from '../usage.js';

export const REPAIR_HELP = `  --repair        record archives that have no record (their run's Worker call failed)
                  from their object metadata, through the Worker, which signs them
                  (marked recorded_by: repair); needs R2's S3 keys. Without it, verify
                  says what would be recorded when the keys are given. Archives stored
                  less than 5 minutes ago and empty objects (uploads in flight) are left`;

/** How a repaired record is shown. */
export const RECORDED_AFTER =
  "recorded after the fact (recorded_by: repair) from the archive's object metadata: its run's record failed";

/** The repair's outcome for each unrecorded archive `chosen` names (a dry run without `apply`);
 *  empty without S3 keys, when only --repair needs them. */
export async function repairUnrecorded(
  connection: Connection,
  apply: boolean,
  tenant: string,
  bucket: string,
  chosen: (file: string) => boolean,
  /** Where each outcome is told (stderr under --json, whose stdout is the JSON alone). */
  say: (line: string) => void = console.log,
): Promise<Map<string, RepairOutcome>> {
  if (!connection.s3) {
    if (apply)
      throw new UsageError(
        "verify --repair needs R2's S3 keys to read the archives' metadata (R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY with R2_ACCOUNT_ID or R2_ENDPOINT)",
      );
    return new Map();
  }
  const outcomes = await repairCatalogue({
    s3: connection.s3,
    worker: requireWorker(connection, 'verify'),
    tenant,
    bucket,
    apply,
    chosen,
  });
  for (const outcome of outcomes) say(describeRepair(outcome));
  return new Map(outcomes.map((outcome) => [outcome.backupFile, outcome]));
}

/** The problem an unrecorded archive still is, or undefined once the repair recorded it. */
export function unrecordedProblem(file: string, outcome: RepairOutcome | undefined): string | undefined {
  if (outcome?.status === 'recorded') return undefined;
  const fix =
    outcome === undefined
      ? " (with R2's S3 keys, verify --repair records it from its object metadata)"
      : outcome.status === 'would-record'
        ? ' (verify --repair records it)'
        : '';
  return `${file}: the archive has no record${fix}`;
}
