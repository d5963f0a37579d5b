// `restore --metadata`: a backup's metadata export (include-metadata) back as files a person
// can read. The export is verified against the record's size and SHA-256 before anything is
// extracted (restoreArchive), extracted and rendered in the staging directory, and moved into
// place only when the rendering succeeded: the target then holds README.md, issues/, pulls/
// and releases/ (render.ts), and json/, the export exactly as extracted.
import { rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BackupMetadata } from '../../common/metadata.js';
import { archiveKey, metaFileName } from '../../common/naming.js';
import { checkBackupFile } from '../../common/validate.js';
import { renderExport, type RenderedExport } from '../github/render.js';
import { objectOpener } from '../r2/object-source.js';
import { restoreArchive, type RestoreProgress, type RestoreResult } from './archive.js';
import {
  chooseRecord,
  identityName,
  signatureDistrust,
  trustRecord,
  type ChosenBackupOptions,
} from './backup.js';
import { identitiesFor } from './encrypted.js';

/** Where the raw export goes inside the target. */
export const EXPORT_JSON_DIR = 'json';

export interface RestoreBackupMetadataOptions extends ChosenBackupOptions {
  maxBytes?: number;
  onProgress?: (progress: RestoreProgress) => void;
  warn?: (message: string) => void;
}

export interface RestoredMetadata extends RestoreResult {
  record: BackupMetadata;
  /** The export's object key. */
  key: string;
  rendered: RenderedExport;
}

/** "12 issues, 3 pulls, ...": an export's counts as text. */
export const describeCounts = (counts: RenderedExport['counts']): string =>
  Object.entries(counts)
    .map(([kind, count]) => `${count} ${kind.replace('_', ' ')}`)
    .join(', ');

/** What the CLI and the restore sub-action say of a restored export, in one line. */
export function describeRestoredMetadata(restored: RestoredMetadata): string {
  const { record, rendered, target } = restored;
  const counts = describeCounts(rendered.counts);
  return (
    `Restored the metadata export of ${record.backup_file} (${rendered.repository}, ` +
    `${rendered.partial ? 'partial' : 'complete'}) into ${target}: ${counts}; ` +
    `README.md is the index, ${EXPORT_JSON_DIR}/ the export as GitHub answered it`
  );
}

/** The metadata export of the backup a selector names, rendered at the target. */
export async function restoreBackupMetadata(
  options: RestoreBackupMetadataOptions,
): Promise<RestoredMetadata> {
  const { tenant, bucket, target } = options;
  const record = await chooseRecord(options.listRecords, tenant, bucket, options.selector);
  const { meta_key, meta_size: size, meta_sha256: sha256 } = record;
  if (!meta_key || size === undefined || sha256 === undefined) {
    throw new Error(
      `Backup ${record.backup_file} has no metadata export: it was made without include-metadata`,
    );
  }
  // The export's hash is only as good as the record that gives it: the same trust as an archive.
  trustRecord(record, signatureDistrust(record, bucket), options);
  const { encrypted } = checkBackupFile(record.backup_file, tenant);
  const identities = await identitiesFor(record, encrypted, options.identities, identityName(options.names));
  // The key from the validated file name, never the record's own text.
  const key = archiveKey(tenant, metaFileName(record.backup_file));
  options.log?.(`Restoring the metadata export ${key} (${size} bytes) into ${target}`);
  let rendered: RenderedExport | undefined;
  const result = await restoreArchive({
    open: objectOpener(options.source, bucket, key),
    object: key,
    warn: options.warn,
    compression: 'zstd',
    expected: { sha256, size },
    target,
    force: options.force,
    maxBytes: options.maxBytes,
    names: options.names,
    onProgress: options.onProgress,
    identities,
    // The tree becomes json/ beside the rendering (the staging directory is this process's own).
    prepare: async (tree) => {
      const exported = join(dirname(tree), 'export');
      await rename(tree, exported);
      rendered = await renderExport(exported, tree);
      await rename(exported, join(tree, EXPORT_JSON_DIR));
    },
  });
  if (rendered!.partial) {
    options.warn?.(
      `the export is partial (${rendered!.partial_reason ?? 'no reason recorded'}): the backup holds what was fetched before it stopped`,
    );
  }
  return { ...result, record, key, rendered: rendered! };
}
