// Content-Type from the object's name, never from the caller or the stored object: anyone
// with S3 keys to the bucket can set that, and a browser would render text/html or SVG.
import { ARCHIVE_EXTENSIONS, COMPRESSIONS, type Compression } from '../../common/validate.js';

const TYPES: Record<Compression, string> = {
  gzip: 'application/gzip',
  zstd: 'application/zstd',
  none: 'application/x-tar',
};

export function contentTypeOf(key: string): string {
  const compression = COMPRESSIONS.find((c) => key.endsWith(ARCHIVE_EXTENSIONS[c]));
  if (compression) return TYPES[compression];
  return key.endsWith('.json') ? 'application/json' : 'application/octet-stream';
}

/** `attachment` with the key's last part: quoted when plain, RFC 8187 encoded otherwise. */
function attachment(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (/^[A-Za-z0-9._-]+$/.test(name)) return `attachment; filename="${name}"`;
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename*=UTF-8''${encoded}`;
}

/** Headers of every download: the type by name, no sniffing, saved rather than shown. */
export const downloadHeaders = (key: string): Record<string, string> => ({
  'content-type': contentTypeOf(key),
  'x-content-type-options': 'nosniff',
  'content-disposition': attachment(key),
});
