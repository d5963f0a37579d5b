// The SHA-256 of a stored object, read back as a stream (Workers' native DigestStream).

/** Hex SHA-256 of the object, or null when the key holds another object now (etag changed). */
export async function sha256Of(binding: R2Bucket, stored: R2Object): Promise<string | null> {
  const object = await binding.get(stored.key, { onlyIf: { etagMatches: stored.etag } });
  if (!object || !('body' in object)) return null;
  const digest = new crypto.DigestStream('SHA-256');
  await object.body.pipeTo(digest);
  return [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
