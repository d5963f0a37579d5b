// Records the Worker vouches for. Anyone with S3 keys to a bucket can write objects that look
// like records (under another tenant's prefix too), and the Worker reads records from the
// bucket; so it signs each record it stores (HMAC-SHA-256 with RECORD_SIGNING_KEY) and checks
// the signature of each record it reads. The signed form takes tenant, bucket, backup file and
// key from where the record is stored, never from its body: a genuine record copied under
// another name or tenant is `tampered`, not `verified`.
import type { BackupMetadata, RecordVerification } from '../../common/metadata.js';
import { misconfigured } from './config-json.js';
import type { Env } from './env.js';
import { placeRecord, type RecordPlace } from './record-summary.js';

const SIGNED_FORM_VERSION = 'r2-backup-record-v1';
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    keys.set(secret, key);
  }
  return key;
}

/** The bytes a signature covers: every field of the record, in record order, with the
 *  fields that say where it is taken from its place. */
function signedForm(record: BackupMetadata, place: RecordPlace): Uint8Array {
  const placed = placeRecord({ ...record, signature: undefined, verification: undefined }, place);
  return encoder.encode(`${SIGNED_FORM_VERSION}\n${JSON.stringify(placed)}`);
}

const toHex = (bytes: ArrayBuffer): string =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

function fromHex(text: string): Uint8Array | null {
  if (!/^[0-9a-f]{64}$/.test(text)) return null;
  return Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
}

/** The signature of a record about to be stored at `place`. Without a signing key the Worker
 *  refuses to store records: a record it cannot vouch for is worth nothing later. */
export async function signRecord(env: Env, record: BackupMetadata, place: RecordPlace): Promise<string> {
  if (!env.RECORD_SIGNING_KEY) {
    throw misconfigured('RECORD_SIGNING_KEY', 'is not set: records could not be verified later');
  }
  const key = await hmacKey(env.RECORD_SIGNING_KEY);
  return toHex(await crypto.subtle.sign('HMAC', key, signedForm(record, place)));
}

/** Whether the Worker signed this record, as it is and where it is (the current key, or the
 *  previous one while records are re-signed). crypto.subtle.verify compares in constant time. */
export async function verificationOf(
  env: Env,
  record: BackupMetadata,
  place: RecordPlace,
): Promise<{ verification: RecordVerification; previousKey: boolean }> {
  if (!env.RECORD_SIGNING_KEY)
    throw misconfigured('RECORD_SIGNING_KEY', 'is not set: records cannot be verified');
  if (record.signature === undefined) return { verification: 'unsigned', previousKey: false };
  const signature = typeof record.signature === 'string' ? fromHex(record.signature) : null;
  if (signature) {
    const form = signedForm(record, place);
    for (const [secret, previousKey] of [
      [env.RECORD_SIGNING_KEY, false],
      [env.RECORD_SIGNING_KEY_PREVIOUS, true],
    ] as const) {
      if (secret && (await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, form))) {
        return { verification: 'verified', previousKey };
      }
    }
  }
  return { verification: 'tampered', previousKey: false };
}

/** The record as the Worker answers it: placed, and marked with its verification. */
export async function vouched(env: Env, record: BackupMetadata, place: RecordPlace): Promise<BackupMetadata> {
  const { verification } = await verificationOf(env, record, place);
  return { ...record, verification };
}
