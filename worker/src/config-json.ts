// Reading JSON from the Worker's vars and secrets. A broken value must fail closed: the request
// is refused with 500 and a message naming the variable and the rule, never the value itself
// (a secret's text, or a parser message quoting it, must not reach a caller or a log).
import { ValidationError, checkBucket, checkTenant } from '../../common/validate.js';
import { HttpError } from './http.js';

export const misconfigured = (variable: string, rule: string): HttpError =>
  new HttpError(500, `Worker misconfigured: ${variable} ${rule}`);

/** A JSON object; absent or empty -> undefined. */
export function parseConfigObject(
  variable: string,
  raw: string | undefined,
): Record<string, unknown> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw misconfigured(variable, 'is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw misconfigured(variable, 'must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** A non-empty list of names each passing `check`; the rule, not the value, is reported. */
function configList(
  variable: string,
  where: string,
  value: unknown,
  check: (value: unknown) => string,
): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw misconfigured(variable, `${where} must be a non-empty list`);
  }
  return value.map((item) => {
    try {
      return check(item);
    } catch (error) {
      if (error instanceof ValidationError) throw misconfigured(variable, `${where}: each ${error.rule}`);
      throw error;
    }
  });
}

export const configTenants = (variable: string, where: string, value: unknown): string[] =>
  configList(variable, `${where} "tenants"`, value, (v) => checkTenant(v));

export const configBuckets = (variable: string, where: string, value: unknown): string[] =>
  configList(variable, `${where} "buckets"`, value, (v) => checkBucket(v));

/** Names of a GitHub owner or `owner/repository`, compared case-insensitively as GitHub does. */
export function configNames(variable: string, where: string, value: unknown, pattern: RegExp): string[] {
  return configList(variable, where, value, (v) => {
    if (typeof v !== 'string' || !pattern.test(v)) throw new ValidationError(where, `must match ${pattern}`);
    return v.toLowerCase();
  });
}
