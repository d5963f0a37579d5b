// r2-backup verify: every record has its archive, of the recorded size (and with --deep, of
// the recorded SHA-256); archives without a record and records without an archive are reported.
import { archiveKey, bundleFileName } from '../../common/naming.js';
import type { Command } from '../command.js';
import { companionKindOf } from '../../common/validate.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  archiveSource,
  connect,
  requireWorker,
  tenantAndBucket,
} from '../connection.js';
import { hashAll, type DeepCheck } from './verify-deep.js';
import { lfsObjectChecks } from './verify-lfs.js';
import { RECORDED_AFTER, REPAIR_HELP, repairUnrecorded, unrecordedProblem } from './verify-repair.js';

/** `name: what is wrong` as JSON; names are backup files or object keys, which hold no ': '. */
function problemEntry(line: string): { object: string; problem: string } {
  const colon = line.indexOf(': ');
  return { object: line.slice(0, colon), problem: line.slice(colon + 2) };
}

export const verify: Command = {
  name: 'verify',
  summary: 'check that every backup is stored whole (--deep: re-read and hash)',
  help: `Usage: r2-backup verify --tenant T [--bucket B] [--backup FILE] [--deep] [--strict] [--repair]
                        [--json]

Checks a tenant's backups (or one) against their records: each record has its archive and
the archive has the recorded size; archives without a record and records without an archive
are reported; git bundles (include-git-history), metadata exports, wiki bundles and LFS
lists (include-metadata, include-wiki, include-lfs) likewise; --deep also hashes every LFS
object the lists name (its SHA-256 is its name). By default from one listing,
without downloading; --deep also reads every archive and bundle and compares its SHA-256.
A record the Worker did not sign is tampered (a problem) when it was changed after signing,
and unverifiable when it was never signed (the earlier shell workflow) or has no SHA-256: reported,
a problem only with --strict. Exits 1 on any problem.

  --tenant T      tenant (required; default: the R2_BACKUP_TENANT environment variable)
  --bucket B      bucket (default: {tenant}-github-backup)
  --backup FILE   only this backup
  --deep          read and hash every archive
  --strict        count unverifiable records as problems
  --json          print {tenant, bucket, backup, deep, strict, checked, ok, problems:
                  [{object, problem}], unverifiable: [{object, reason}]} instead (README:
                  "JSON output"); the exit code is the same
${REPAIR_HELP}

${CONNECTION_HELP}`,
  options: {
    ...TENANT_OPTIONS,
    ...CONNECTION_OPTIONS,
    backup: { type: 'string' },
    deep: { type: 'boolean' },
    strict: { type: 'boolean' },
    repair: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    const connection = connect(values as Record<string, string>);
    const inventory = await requireWorker(connection, 'verify').inventory(tenant, bucket);
    const only = typeof values.backup === 'string' ? values.backup : undefined;
    const chosen = (file: string): boolean => only === undefined || file === only;
    const records = inventory.records.filter((r) => chosen(r.backup_file));
    const archives = new Map(
      inventory.archives.filter((a) => chosen(a.backup_file)).map((a) => [a.backup_file, a]),
    );
    if (only && records.length === 0 && archives.size === 0)
      throw new Error(`No backup ${only} in bucket ${bucket}`);

    const problems: string[] = [];
    for (const file of inventory.missing_archives.filter(chosen))
      problems.push(`${file}: the record has no archive`);
    // Notes along the way; under --json stdout is the JSON document alone, so they go to stderr.
    const say = (line: string): void => (values.json ? console.error(line) : console.log(line));
    const repairs = await repairUnrecorded(connection, values.repair === true, tenant, bucket, chosen, say);
    // An upload's empty claim is no lost backup: in progress, or abandoned (sweep removes it).
    const claims = new Map((inventory.claims ?? []).map((c) => [c.backup_file, c]));
    for (const file of inventory.orphan_archives.filter(chosen)) {
      const claim = claims.get(file);
      if (claim) {
        const claimed = `claimed ${claim.age_hours} hours ago`;
        if (claim.abandoned)
          problems.push(
            `${file}: an abandoned upload (${claimed}, more than ${inventory.abandoned_after_hours} hours): r2-backup sweep removes it`,
          );
        else say(`${file}: an upload in progress (${claimed}), not a problem`);
        continue;
      }
      const problem = unrecordedProblem(file, repairs.get(file));
      if (problem) problems.push(problem);
    }
    // The claims of companions (`{stamp}.bundle`...) left by a run in progress or killed.
    for (const claim of inventory.claims ?? []) {
      const sameBackup = only === undefined || claim.backup_file.startsWith(only.replace(/\.tar.*$/, '.'));
      if (!companionKindOf(claim.key) || !sameBackup) continue;
      const claimed = `claimed ${claim.age_hours} hours ago`;
      if (claim.abandoned)
        problems.push(
          `${claim.backup_file}: an abandoned upload (${claimed}, more than ${inventory.abandoned_after_hours} hours): r2-backup sweep removes it`,
        );
      else say(`${claim.backup_file}: an upload in progress (${claimed}), not a problem`);
    }
    const unverifiable: { object: string; reason: string }[] = [];
    const unverifiableRecord = (file: string, why: string): void => {
      if (values.strict) problems.push(`${file}: unverifiable (${why})`);
      else unverifiable.push({ object: file, reason: why });
    };
    // Read back once the listing is checked, with one progress line over all of them.
    const deep: DeepCheck[] = [];
    for (const record of records) {
      if (record.recorded_by === 'repair') say(`${record.backup_file}: ${RECORDED_AFTER}`);
      if (record.verification === 'tampered') {
        problems.push(
          `${record.backup_file}: the record is tampered (changed or copied after the Worker signed it)`,
        );
        continue;
      }
      if (record.verification === 'unsigned') {
        unverifiableRecord(
          record.backup_file,
          'the Worker did not sign the record: an earlier shell workflow wrote it, or it was planted over S3',
        );
      }
      const archive = archives.get(record.backup_file);
      if (!archive) continue;
      if (record.size !== undefined && archive.size !== record.size) {
        problems.push(`${record.backup_file}: ${archive.size} bytes stored, ${record.size} recorded`);
        continue;
      }
      if (!record.sha256 || record.size === undefined) {
        unverifiableRecord(record.backup_file, 'the record has no size or SHA-256');
        continue;
      }
      const key = archiveKey(tenant, record.backup_file);
      deep.push({ key, name: record.backup_file, sha256: record.sha256, size: record.size });
    }
    // The git bundles beside the archives (include-git-history), checked the same way.
    const bundleChosen = (key: string): boolean =>
      only === undefined || key === archiveKey(tenant, bundleFileName(only));
    const bundleSizes = new Map(inventory.bundles.map((b) => [b.key, b.size]));
    for (const key of inventory.missing_bundles.filter(bundleChosen))
      problems.push(`${key}: the record names a bundle that is missing`);
    for (const key of inventory.orphan_bundles.filter(bundleChosen))
      problems.push(`${key}: the bundle has no record`);
    for (const record of records) {
      const key = record.bundle_key;
      if (!key || !bundleSizes.has(key)) continue;
      if (bundleSizes.get(key) !== record.bundle_size) {
        problems.push(`${key}: ${bundleSizes.get(key)} bytes stored, ${record.bundle_size} recorded`);
      } else {
        deep.push({ key, name: key, sha256: String(record.bundle_sha256), size: record.bundle_size! });
      }
    }
    // The metadata exports, wiki bundles and LFS lists (include-metadata, -wiki, -lfs) likewise.
    const chosenRecords = new Set(records.map((r) => r.backup_file));
    const named = inventory.records
      .filter((r) => chosenRecords.has(r.backup_file))
      .flatMap((r) => r.companions ?? []);
    const namedKeys = new Set(named.map((c) => c.key));
    for (const key of inventory.missing_companions ?? [])
      if (namedKeys.has(key)) problems.push(`${key}: the record names it, but it is missing`);
    for (const key of inventory.orphan_companions ?? [])
      if (only === undefined) problems.push(`${key}: no record names it`);
    const companionSizes = new Map((inventory.companions ?? []).map((c) => [c.key, c.size]));
    for (const { key, size, sha256 } of named) {
      if (!companionSizes.has(key)) continue;
      if (companionSizes.get(key) !== size) {
        problems.push(`${key}: ${companionSizes.get(key)} bytes stored, ${size} recorded`);
      } else if (sha256 && size !== undefined) {
        deep.push({ key, name: key, sha256, size });
      }
    }
    if (values.deep) {
      const source = archiveSource(connection, 'verify --deep');
      // The LFS objects the lists name (include-lfs), whose lists are whole by size.
      const lists = named.filter((c) => c.kind === 'lfs' && companionSizes.get(c.key) === c.size);
      const lfs = await lfsObjectChecks(source, bucket, tenant, lists);
      problems.push(...lfs.problems);
      problems.push(...(await hashAll(source, bucket, [...deep, ...lfs.checks])));
    }
    if (values.json) {
      const result = {
        tenant,
        bucket,
        backup: only ?? null,
        deep: values.deep === true,
        strict: values.strict === true,
        checked: records.length,
        ok: problems.length === 0,
        problems: problems.map(problemEntry),
        unverifiable,
      };
      console.log(JSON.stringify(result, null, 2));
      return problems.length === 0 ? 0 : 1;
    }
    for (const { object, reason } of unverifiable) console.log(`${object}: unverifiable (${reason})`);
    for (const problem of problems) console.log(`PROBLEM ${problem}`);
    const how = values.deep ? 'size and SHA-256' : 'size';
    console.log(
      `${records.length} backups of tenant ${tenant} in bucket ${bucket} checked (${how}): ` +
        (problems.length === 0 ? 'all whole' : `${problems.length} problems`),
    );
    return problems.length === 0 ? 0 : 1;
  },
};
