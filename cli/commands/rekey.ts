// r2-backup rekey: an encrypted backup re-encrypted for a new set of recipients, stored as a
// NEW backup (the next free run number of its stamp, `{stamp}-2.tar.zst.age`, with its git
// bundle, metadata export and wiki bundle when it has them)
// and recorded through the Worker; the old backup is never touched: the operator deletes it
// once the new one restores (docs/encryption.md).
import { readFileSync } from 'node:fs';
import { METADATA_FIELDS } from '../../common/record-input.js';
import type { BackupMetadata, BackupMetadataInput } from '../../common/metadata.js';
import { archiveKey, backupFileName, companionFileName } from '../../common/naming.js';
import { checkBackupFile, type CompanionKind } from '../../common/validate.js';
import { parseRecipients, recipientFingerprint } from '../../core/crypto/recipients.js';
import { rekeyInto } from '../../core/crypto/rekey.js';
import { openObject, type ArchiveSource } from '../../core/r2/object-source.js';
import { chooseRecord, distrustOf } from '../../core/restore/backup.js';
import { identitiesFor } from '../../core/restore/encrypted.js';
import { S3Uploader } from '../../core/upload/s3-uploader.js';
import { choosePartSize, type ArchiveUploader, type PendingUpload } from '../../core/upload/uploader.js';
import { WorkerUploader } from '../../core/upload/worker-uploader.js';
import type { StreamDigest } from '../../core/streams/hash.js';
import type { Command } from '../command.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  TENANT_OPTIONS,
  archiveSource,
  connect,
  requireWorker,
  tenantAndBucket,
} from '../connection.js';
import { IDENTITY_HELP, IDENTITY_NAMES, identitiesOf } from '../identity.js';
import { UsageError } from '../usage.js';

/** Run numbers a stamp may take (as the action's). */
const MAX_RUN_NUMBER = 1000;
const ENCRYPTED_CONTENT_TYPE = 'application/octet-stream';

/** The encrypted companions a backup can have (an LFS list never is: include-lfs is refused
 *  with encryption), each with the record fields that give its size and SHA-256. */
const ENCRYPTED_COMPANIONS = ['bundle', 'meta', 'wiki'] as const satisfies readonly CompanionKind[];
type EncryptedCompanion = (typeof ENCRYPTED_COMPANIONS)[number];

const companionDigest = (record: BackupMetadata, kind: EncryptedCompanion): StreamDigest | undefined => {
  const [size, sha256] = [record[`${kind}_size`], record[`${kind}_sha256`]];
  return record[`${kind}_key`] && size !== undefined && sha256 ? { size, sha256 } : undefined;
};

interface Claimed {
  backupFile: string;
  archive: PendingUpload;
  companions: Partial<Record<EncryptedCompanion, PendingUpload>>;
}

/** The first `{stamp}-n` name (with its companions' names) that nothing holds yet. */
async function claimNewName(
  uploader: ArchiveUploader,
  tenant: string,
  record: BackupMetadata,
): Promise<Claimed> {
  const { stamp, compression } = checkBackupFile(record.backup_file, tenant);
  const base = stamp.slice(0, 15);
  const kinds = ENCRYPTED_COMPANIONS.filter((kind) => companionDigest(record, kind));
  names: for (let n = 2; n <= MAX_RUN_NUMBER; n++) {
    const backupFile = backupFileName(base, compression, n, true);
    const archive = await uploader.begin(archiveKey(tenant, backupFile));
    if (!archive) continue;
    const claimed: Claimed = { backupFile, archive, companions: {} };
    for (const kind of kinds) {
      const pending = await uploader.begin(archiveKey(tenant, companionFileName(backupFile, kind)));
      if (!pending) {
        await abortAll(claimed);
        continue names;
      }
      claimed.companions[kind] = pending;
    }
    return claimed;
  }
  throw new Error(`No free name for stamp ${base} after ${MAX_RUN_NUMBER} tries`);
}

const abortAll = (claimed: Claimed): Promise<unknown> =>
  Promise.all(
    [claimed.archive, ...Object.values(claimed.companions)].map((p) => p.abort().catch(() => undefined)),
  );

/** The old record's fields for the new backup, with what the rekey changed. */
function newRecord(
  record: BackupMetadata,
  tenant: string,
  backupFile: string,
  archive: StreamDigest,
  companions: Partial<Record<EncryptedCompanion, StreamDigest>>,
  recipients: string[],
): BackupMetadataInput {
  // The old record's fields, but its companions' keys, sizes and hashes: theirs are new.
  const companionField = /^(bundle|meta|wiki|lfs)_(key|size|sha256)$/;
  const kept = Object.fromEntries(
    Object.entries(record).filter(
      ([field]) =>
        (METADATA_FIELDS as readonly string[]).includes(field) &&
        field !== 'recorded_by' &&
        !companionField.test(field),
    ),
  ) as unknown as BackupMetadataInput;
  const fields: Record<string, unknown> = {};
  for (const [kind, digest] of Object.entries(companions)) {
    fields[`${kind}_key`] = archiveKey(tenant, companionFileName(backupFile, kind as EncryptedCompanion));
    fields[`${kind}_size`] = digest.size;
    fields[`${kind}_sha256`] = digest.sha256;
  }
  return {
    ...kept,
    backup_file: backupFile,
    key: archiveKey(tenant, backupFile),
    action: 'rekey',
    size: archive.size,
    sha256: archive.sha256,
    encrypted: true,
    recipients: recipients.map(recipientFingerprint),
    ...fields,
  };
}

export const rekey: Command = {
  name: 'rekey',
  summary: 'store an encrypted backup again for a new set of recipients',
  help: `Usage: r2-backup rekey --tenant T [--bucket B] --backup FILE --recipients FILE
                     [--identity FILE]

Re-encrypts an encrypted backup (and its git bundle, metadata export and wiki) for the recipients listed in the
recipients file (age1... or age1pq1..., one a line, # comments), as a NEW backup beside it:
the next free run number of its stamp ({stamp}-2.tar.zst.age, ...), recorded through the
Worker with the same commit, branch and time, action "rekey". The archive is streamed: read,
decrypted with the identity, encrypted with a new file key, uploaded; the new object is
completed only if the old one matched its record's SHA-256. The old backup is left as it was:
restore the new one with a new identity, then delete the old one (docs/encryption.md).

  --tenant T         tenant (required; default: the R2_BACKUP_TENANT environment variable)
  --bucket B         bucket (default: {tenant}-github-backup)
  --backup FILE      the encrypted backup to rekey (for example 20250101-120000.tar.zst.age)
  --recipients FILE  the new recipients, one a line
${IDENTITY_HELP}

${CONNECTION_HELP}`,
  options: {
    ...TENANT_OPTIONS,
    ...CONNECTION_OPTIONS,
    backup: { type: 'string' },
    recipients: { type: 'string' },
    identity: { type: 'string' },
  },
  async run(values) {
    const { tenant, bucket } = tenantAndBucket(values as Record<string, string>);
    if (typeof values.backup !== 'string') throw new UsageError('--backup FILE is required');
    if (typeof values.recipients !== 'string') throw new UsageError('--recipients FILE is required');
    let recipientsText: string;
    try {
      recipientsText = readFileSync(values.recipients, 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read --recipients ${values.recipients}: ${(error as NodeJS.ErrnoException).code}`,
      );
    }
    const recipients = parseRecipients(recipientsText, `--recipients ${values.recipients}`);
    const given = identitiesOf(values);
    const connection = connect(values as Record<string, string>);
    const worker = requireWorker(connection, 'rekey');
    const record = await chooseRecord(() => worker.listAll(tenant, bucket), tenant, bucket, {
      backup: values.backup,
    });
    if (!checkBackupFile(record.backup_file, tenant).encrypted) {
      throw new Error(
        `${record.backup_file} is not encrypted: rekey re-encrypts backups made with encryption-recipients`,
      );
    }
    const distrust = distrustOf(record, bucket);
    if (distrust) throw new Error(`${distrust}. Not rekeyed.`);
    const identities = (await identitiesFor(record, true, given, IDENTITY_NAMES))!;
    const source = archiveSource(connection, 'rekey');
    const log = (message: string) => console.error(`Warning: ${message}`);
    const uploader: ArchiveUploader = connection.s3
      ? new S3Uploader(connection.s3, bucket, 'R2 over S3', ENCRYPTED_CONTENT_TYPE, log)
      : new WorkerUploader(worker, bucket, log);
    const claimed = await claimNewName(uploader, tenant, record);
    try {
      const copy = (key: string, expected: StreamDigest, pending: PendingUpload) =>
        rekeyCopy(source, bucket, key, expected, pending, identities, recipients, uploader.maxPartSize);
      console.error(
        `Rekeying ${record.backup_file} as ${claimed.backupFile} for ${recipients.length} recipient(s)`,
      );
      const archive = await copy(
        archiveKey(tenant, record.backup_file),
        { sha256: record.sha256!, size: record.size! },
        claimed.archive,
      );
      const companions: Partial<Record<EncryptedCompanion, StreamDigest>> = {};
      for (const [kind, pending] of Object.entries(claimed.companions) as [
        EncryptedCompanion,
        PendingUpload,
      ][]) {
        const key = archiveKey(tenant, companionFileName(record.backup_file, kind));
        companions[kind] = await copy(key, companionDigest(record, kind)!, pending);
      }
      await worker.storeMetadata(
        newRecord(record, tenant, claimed.backupFile, archive, companions, recipients),
      );
    } catch (error) {
      // The new objects go; the old backup was never touched.
      await abortAll(claimed);
      throw error;
    }
    console.log(
      `Rekeyed ${record.backup_file} as ${claimed.backupFile} for the recipients with fingerprints ` +
        `${recipients.map(recipientFingerprint).join(', ')}. ${record.backup_file} is unchanged: ` +
        `delete it once ${claimed.backupFile} restores with a new identity (docs/encryption.md).`,
    );
    return 0;
  },
};

async function rekeyCopy(
  source: ArchiveSource,
  bucket: string,
  key: string,
  expected: StreamDigest,
  pending: PendingUpload,
  identities: string[],
  recipients: string[],
  maxPartSize: number,
): Promise<StreamDigest> {
  return rekeyInto({
    source: (await openObject(source, bucket, key)).body,
    expected,
    identities,
    recipients,
    pending,
    partSize: choosePartSize(expected.size, maxPartSize),
    what: key,
  });
}
