// List cursors: opaque to callers, signed, and bound to the listing they came from, so a
// cursor of one tenant or bucket is refused (400) for another.
import { ValidationError } from '../../common/validate.js';

export interface CursorScope {
  bucket: string;
  tenant: string | null;
}

interface CursorPayload {
  s: string; // scope
  a: string; // position: the sort key of the last record returned
}

const scopeOf = (scope: CursorScope): string => `${scope.bucket}/${scope.tenant ?? '*'}`;

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  // A label keeps this use of the secret apart from any other.
  const material = new TextEncoder().encode(`r2-backup list cursor\n${secret}`);
  return crypto.subtle.importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

export async function encodeCursor(secret: string, scope: CursorScope, position: string): Promise<string> {
  const payload: CursorPayload = { s: scopeOf(scope), a: position };
  const body = new TextEncoder().encode(JSON.stringify(payload));
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), body));
  return `${toBase64Url(body)}.${toBase64Url(signature)}`;
}

/** The position a cursor stands for; 400 when forged, damaged or from another listing. */
export async function decodeCursor(secret: string, scope: CursorScope, cursor: string): Promise<string> {
  const invalid = new ValidationError('cursor', 'must be a cursor returned by this list');
  const [body, signature, extra] = cursor.split('.');
  if (!body || !signature || extra !== undefined) throw invalid;
  let payload: CursorPayload;
  try {
    const bytes = fromBase64Url(body);
    const valid = await crypto.subtle.verify('HMAC', await hmacKey(secret), fromBase64Url(signature), bytes);
    if (!valid) throw invalid;
    payload = JSON.parse(new TextDecoder().decode(bytes)) as CursorPayload;
  } catch {
    throw invalid;
  }
  if (payload.s !== scopeOf(scope) || typeof payload.a !== 'string') {
    throw new ValidationError('cursor', 'belongs to a list of another tenant or bucket');
  }
  return payload.a;
}
