// r2-backup rekey: an encrypted backup re-encrypted for a new set of recipients, stored as a
// NEW backup (the next free run number of its stamp, `{stamp}-2.tar.zst.age`, with its bundle)
// and recorded through the Worker; the old backup is never touched: the operator deletes it
// once the new one restores (docs/encryption.md).
import { readFileSync } from 'node:fs';
import { METADATA_FIELDS } from '../../common/record-input.js';
import type { BackupMetadata, BackupMetadataInput } from '../../common/metadata.js';
import { archiveKey, backupFileName, bundleFileName } from '../../common/naming.js';
import { checkBackupFile } from '../../common/validate.js';
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

interface Claimed {
  backupFile: string;
  archive: PendingUpload;
  bundle?: PendingUpload;
}

/** The first `{stamp}-n` name (with its bundle's, when there is one) that nothing holds yet. */
async function claimNewName(
  uploader: ArchiveUploader,
  tenant: string,
  record: BackupMetadata,
): Promise<Claimed> {
  const { stamp, compression } = checkBackupFile(record.backup_file, tenant);
  const base = stamp.slice(0, 15);
  for (let n = 2; n <= MAX_RUN_NUMBER; n++) {
    const backupFile = backupFileName(base, compression, n, true);
    const archive = await uploader.begin(archiveKey(tenant, backupFile));
    if (!archive) continue;
    if (!record.bundle_key) return { backupFile, archive };
    const bundle = await uploader.begin(archiveKey(tenant, bundleFileName(backupFile)));
    if (bundle) return { backupFile, archive, bundle };
    await archive.abort();
  }
  throw new Error(`No free name for stamp ${base} after ${MAX_RUN_NUMBER} tries`);
}

/** The old record's fields for the new backup, with what the rekey changed. */
function newRecord(
  record: BackupMetadata,
  tenant: string,
  backupFile: string,
  archive: StreamDigest,
  bundle: StreamDigest | undefined,
  recipients: string[],
): BackupMetadataInput {
  const kept = Object.fromEntries(
    Object.entries(record).filter(
      ([field]) => (METADATA_FIELDS as readonly string[]).includes(field) && field !== 'recorded_by',
    ),
  ) as unknown as BackupMetadataInput;
  return {
    ...kept,
    backup_file: backupFile,
    key: archiveKey(tenant, backupFile),
    action: 'rekey',
    size: archive.size,
    sha256: archive.sha256,
    encrypted: true,
    recipients: recipients.map(recipientFingerprint),
    ...(bundle && {
      bundle_key: archiveKey(tenant, bundleFileName(backupFile)),
      bundle_size: bundle.size,
      bundle_sha256: bundle.sha256,
    }),
  };
}

export const rekey: Command = {
  name: 'rekey',
  summary: 'store an encrypted backup again for a new set of recipients',
  help: `Usage: r2-backup rekey --tenant T [--bucket B] --backup FILE --recipients FILE
                     [--identity FILE]

Re-encrypts an encrypted backup (and its git bundle) for the recipients listed in the
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
      const bundle =
        claimed.bundle &&
        (await copy(
          archiveKey(tenant, bundleFileName(record.backup_file)),
          { sha256: record.bundle_sha256!, size: record.bundle_size! },
          claimed.bundle,
        ));
      await worker.storeMetadata(newRecord(record, tenant, claimed.backupFile, archive, bundle, recipients));
    } catch (error) {
      // The new objects go; the old backup was never touched.
      await Promise.all([claimed.archive, claimed.bundle].map((p) => p?.abort().catch(() => undefined)));
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
    source: await openObject(source, bucket, key),
    expected,
    identities,
    recipients,
    pending,
    partSize: choosePartSize(expected.size, maxPartSize),
    what: key,
  });
}
