// Retention policies as the Worker receives them: snake_case fields (`keep_last`, ...) in a
// prune request's body or in the RETENTION_POLICIES var. The rules themselves live in
// common/retention.ts; this only maps the names and says which field is wrong.
import {
  POLICY_RULES,
  isEmptyPolicy,
  parseRetentionPolicy,
  type RetentionPolicy,
} from '../../common/retention.js';
import { ValidationError } from '../../common/validate.js';

type Rule = (typeof POLICY_RULES)[number];

/** keepLast -> keep_last */
const snakeName = (rule: Rule): string => rule.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export const POLICY_FIELDS: readonly string[] = POLICY_RULES.map(snakeName);

/** A policy as its snake_case fields, as the Worker answers it. */
export function policyFields(policy: RetentionPolicy): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const rule of POLICY_RULES) if (policy[rule] !== undefined) fields[snakeName(rule)] = policy[rule];
  return fields;
}

/** The policy named by the `keep_*` fields of `input` (other fields are the caller's business).
 *  Each must be a JSON number from 1 to 100000 (null counts as absent); at least one is required. */
export function policyFromFields(input: Record<string, unknown>, fieldPrefix = ''): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const rule of POLICY_RULES) {
    const field = snakeName(rule);
    const value = input[field];
    if (value === undefined || value === null) continue;
    try {
      if (typeof value !== 'number') throw new ValidationError(field, 'must be a number');
      Object.assign(policy, parseRetentionPolicy({ [rule]: value }));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new ValidationError(`${fieldPrefix}${field}`, 'must be a whole number from 1 to 100000');
    }
  }
  if (isEmptyPolicy(policy)) {
    throw new ValidationError(
      `${fieldPrefix}policy`,
      `at least one of ${POLICY_FIELDS.join(', ')} is required`,
    );
  }
  return policy;
}
