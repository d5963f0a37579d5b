// Reads a JSON object body with a size limit, without trusting Content-Length alone.
import { ValidationError } from '../../common/validate.js';
import { HttpError } from './http.js';

export const JSON_BODY_LIMIT = 64 * 1024;

export async function readJsonObject(
  request: Request,
  limit = JSON_BODY_LIMIT,
): Promise<Record<string, unknown>> {
  const tooLarge = new HttpError(413, `Request body too large: at most ${limit} bytes of JSON`);
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw tooLarge;
  if (!request.body) throw new ValidationError('body', 'must be a JSON object');

  // Count what actually arrives: a chunked body has no Content-Length.
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new ValidationError('body', 'must be valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError('body', 'must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
