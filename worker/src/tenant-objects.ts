// Everything stored under `backups/{tenant}/`, from one paginated listing (no per-object
// reads): archives, their sibling objects, metadata records and notifications. The prune and
// inventory routes and the retention cron work from this.
import { positionOf, tenantPrefix } from '../../common/naming.js';
import { listedRecord, type Listed } from './listing.js';
import { companionKindOf } from '../../common/validate.js';

export interface StoredArchive {
  backupFile: string;
  position: string;
  object: R2Object;
}

export interface TenantObjects {
  /** Objects named like a backup file directly under the tenant's folder. */
  archives: StoredArchive[];
  /** Metadata records, with the record when its summary is in customMetadata. */
  records: Listed[];
  /** Other objects directly under the tenant's folder (e.g. a `{stamp}.bundle` beside an archive). */
  others: R2Object[];
  /** Names of notifications, without folder and `.json`. */
  notifications: string[];
  /** When R2 stored each notification (by name): orders them without reading their bodies. */
  notificationUploaded: Map<string, Date>;
  /** The kind of each notification that has one (`drill`), from its custom metadata. */
  notificationKinds: Map<string, string>;
  /** When R2 stored each record (by backup file): the Worker's clock, not the caller's stamp. */
  recordUploaded: Map<string, Date>;
}

export async function scanTenant(binding: R2Bucket, bucket: string, tenant: string): Promise<TenantObjects> {
  const prefix = tenantPrefix(tenant);
  const metadataPrefix = `${prefix}metadata/`;
  const notificationPrefix = `${prefix}notifications/`;
  const found: TenantObjects = {
    archives: [],
    records: [],
    others: [],
    notifications: [],
    notificationUploaded: new Map(),
    notificationKinds: new Map(),
    recordUploaded: new Map(),
  };
  let cursor: string | undefined;
  do {
    // With `include`, R2 may return fewer than `limit` objects while more remain.
    const page = await binding.list({ prefix, cursor, limit: 1000, include: ['customMetadata'] });
    for (const object of page.objects) {
      if (object.key.startsWith(metadataPrefix)) {
        const listed = listedRecord(object, bucket, tenant, metadataPrefix);
        if (listed) {
          found.records.push(listed);
          found.recordUploaded.set(listed.backupFile, object.uploaded);
        }
      } else if (object.key.startsWith(notificationPrefix)) {
        const name = object.key.slice(notificationPrefix.length);
        if (name.endsWith('.json') && !name.includes('/')) {
          found.notifications.push(name.slice(0, -5));
          found.notificationUploaded.set(name.slice(0, -5), object.uploaded);
          const kind = object.customMetadata?.kind;
          if (kind) found.notificationKinds.set(name.slice(0, -5), kind);
        }
      } else {
        const name = object.key.slice(prefix.length);
        if (name.includes('/')) continue; // a folder this Worker never writes
        const position = positionOf(tenant, name); // null: not named like an archive
        if (position === null) found.others.push(object);
        else found.archives.push({ backupFile: name, position, object });
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return found;
}

/** The objects named like an archive's companion (`{stamp}.bundle`, `.meta.tar.zst`...), by name
 *  as archives are, so that their claims are found and swept like archives'. */
export const companionObjects = (objects: TenantObjects): StoredArchive[] =>
  objects.others
    .filter((object) => companionKindOf(object.key) !== undefined)
    .map((object) => ({
      backupFile: object.key.slice(object.key.lastIndexOf('/') + 1),
      position: '',
      object,
    }));
