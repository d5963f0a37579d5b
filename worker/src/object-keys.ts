// Which object keys the upload and download routes accept. Keys come from the caller, so
// they are checked part by part and must name a tenant the caller may touch.
import {
  LFS_OID_RE,
  ValidationError,
  checkBackupFile,
  checkCompanionFile,
  checkTenant,
  companionKindOf,
} from '../../common/validate.js';

export interface ObjectKey {
  key: string;
  tenant: string;
  /** An LFS object's oid: the SHA-256 its bytes must have. */
  sha256?: string;
}

function splitKey(value: string | undefined): { root: string; tenant: string; rest: string[] } {
  const rule = 'must be "backups/{tenant}/{name}" or "lfs/{tenant}/{oid}" without empty, "." or ".." parts';
  if (value === undefined) throw new ValidationError('key', 'is required');
  if (new TextEncoder().encode(value).byteLength > 1024)
    throw new ValidationError('key', 'must be at most 1024 bytes');
  const [root, tenant, ...rest] = value.split('/');
  if ((root !== 'backups' && root !== 'lfs') || tenant === undefined || rest.length === 0)
    throw new ValidationError('key', rule);
  checkTenant(tenant, 'key');
  // eslint-disable-next-line no-control-regex
  if (rest.some((part) => part === '' || part === '.' || part === '..' || /[\x00-\x1f\x7f\\]/.test(part))) {
    throw new ValidationError('key', rule);
  }
  if (root === 'lfs' && (rest.length !== 1 || !LFS_OID_RE.test(rest[0]!))) {
    throw new ValidationError(
      'key',
      'must be "lfs/{tenant}/{oid}" with oid 64 lowercase hexadecimal characters',
    );
  }
  return { root, tenant, rest };
}

/**
 * Uploads write archives, the objects stored beside them and LFS objects only:
 * `backups/{tenant}/{backup_file}`, `backups/{tenant}/{stamp}.bundle` (`.meta.tar.zst`,
 * `.wiki.bundle`, `.lfs.json`; `.age` after any when encrypted) or `lfs/{tenant}/{oid}`.
 * Metadata and notification records go through their own validated routes and cannot be
 * planted here; no upload replaces an object (uploads.ts claims each key first).
 */
export function uploadKey(value: string | undefined): ObjectKey {
  const { root, tenant, rest } = splitKey(value);
  if (root === 'lfs') return { key: value!, tenant, sha256: rest[0]! };
  if (rest.length !== 1) {
    throw new ValidationError('key', 'must be "backups/{tenant}/{backup_file}": uploads write archives only');
  }
  if (companionKindOf(rest[0]!)) checkCompanionFile(rest[0], tenant, 'key');
  else checkBackupFile(rest[0], tenant, 'key');
  return { key: value!, tenant };
}

/** Downloads read anything under `backups/{tenant}/` (archives and their records) and the
 *  tenant's LFS objects. */
export function downloadKey(value: string | undefined): ObjectKey {
  const { tenant } = splitKey(value);
  return { key: value!, tenant };
}
