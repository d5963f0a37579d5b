// Which object keys the upload and download routes accept. Keys come from the caller, so
// they are checked part by part and must name a tenant the caller may touch.
import {
  ValidationError,
  checkBackupFile,
  checkBundleFile,
  checkTenant,
  isBundleFile,
} from '../../common/validate.js';

export interface ObjectKey {
  key: string;
  tenant: string;
}

function splitBackupKey(value: string | undefined): { tenant: string; rest: string[] } {
  const rule = 'must be "backups/{tenant}/{name}" without empty, "." or ".." parts';
  if (value === undefined) throw new ValidationError('key', 'is required');
  if (new TextEncoder().encode(value).byteLength > 1024)
    throw new ValidationError('key', 'must be at most 1024 bytes');
  const [root, tenant, ...rest] = value.split('/');
  if (root !== 'backups' || tenant === undefined || rest.length === 0) throw new ValidationError('key', rule);
  checkTenant(tenant, 'key');
  // eslint-disable-next-line no-control-regex
  if (rest.some((part) => part === '' || part === '.' || part === '..' || /[\x00-\x1f\x7f\\]/.test(part))) {
    throw new ValidationError('key', rule);
  }
  return { tenant, rest };
}

/**
 * Uploads write archives and their git bundles only: `backups/{tenant}/{backup_file}` or
 * `backups/{tenant}/{stamp}.bundle` (`.age` after either when encrypted). Metadata and notification records go through their own
 * validated routes and cannot be planted here.
 */
export function uploadKey(value: string | undefined): ObjectKey {
  const { tenant, rest } = splitBackupKey(value);
  if (rest.length !== 1) {
    throw new ValidationError('key', 'must be "backups/{tenant}/{backup_file}": uploads write archives only');
  }
  if (isBundleFile(rest[0]!)) checkBundleFile(rest[0], tenant, 'key');
  else checkBackupFile(rest[0], tenant, 'key');
  return { key: value!, tenant };
}

/** Downloads read anything under `backups/{tenant}/` (archives and their records). */
export function downloadKey(value: string | undefined): ObjectKey {
  const { tenant } = splitBackupKey(value);
  return { key: value!, tenant };
}
