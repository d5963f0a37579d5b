// JSON errors in the contract's shape: {success:false, error, field?, ...}.
import { ValidationError } from '../../common/validate.js';
import { callerR2Error } from './r2-errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** The router's `catch`: known errors become their status, anything else a bare 500. */
export function handleError(error: unknown): Response {
  if (error instanceof ValidationError) {
    return jsonResponse({ success: false, error: error.message, field: error.field }, 400);
  }
  if (error instanceof HttpError) {
    return jsonResponse(
      { success: false, error: error.message, ...error.extra },
      error.status,
      error.headers,
    );
  }
  // Wherever R2 is called: what the caller got wrong is theirs to know, with R2's reason.
  const r2 = callerR2Error(error);
  if (r2) return jsonResponse({ success: false, error: r2.message, r2_code: r2.code }, r2.status);
  // Never echo internals (they may include keys or upstream messages) to the caller.
  console.error('unhandled error', error);
  return jsonResponse({ success: false, error: 'Internal error' }, 500);
}

export const notFound = (): Response => jsonResponse({ success: false, error: 'Not found' }, 404);

/** Handler for a known path hit with a method it does not serve. */
export const methodNotAllowed =
  (...allowed: string[]) =>
  (): Response =>
    jsonResponse({ success: false, error: `Method not allowed; use ${allowed.join(', ')}` }, 405, {
      allow: allowed.join(', '),
    });

/** One query parameter: absent -> undefined; repeated -> 400. */
export function queryParam(
  query: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new ValidationError(name, 'must be given once');
  return value === '' ? undefined : value;
}

/** A path parameter, percent-decoded. */
export function pathParam(params: Record<string, string>, name: string): string {
  try {
    return decodeURIComponent(params[name] ?? '');
  } catch {
    throw new ValidationError(name, 'must be valid percent-encoding');
  }
}
