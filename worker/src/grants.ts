// A grant in the Worker's configuration: a TENANT_TOKENS entry, an OIDC_POLICY "repositories"
// entry or an OIDC_POLICY "owners" entry. Each is an object of some of the fields below, parsed
// by one function, so the rules and messages of the three cannot drift apart; and what a grant
// gives (tenants, buckets, the tenants it may delete from) is worked out by one function too.
import { TENANT_RULES, type TenantRule } from '../../common/naming.js';
import { ROLES, type Role } from './access.js';
import { configBuckets, configTenants, misconfigured } from './config-json.js';
import { bucketsOfTenants, type TenantBuckets } from './principal.js';

/** Every field a grant may have; each kind of grant allows some of them. */
export interface GrantFields {
  /** An OIDC owner's rule for naming its repositories' tenants. */
  tenant: TenantRule;
  tenants: string[];
  /** Absent: the buckets the tenants map to (TENANT_BUCKETS, else `{tenant}-github-backup`). */
  buckets?: string[];
  /** A GitHub `repository_owner_id` or `repository_id`, as a decimal string. */
  id?: string;
  /** Absent: `backup`. */
  role?: Role;
}
export type GrantField = keyof GrantFields;

interface FieldRule {
  /** How the field is spelled in the shape an error message shows. */
  shape: string;
  optional: boolean;
  parse: (variable: string, where: string, value: unknown) => unknown;
}

const FIELDS: Record<GrantField, FieldRule> = {
  tenant: {
    shape: `"tenant": ${TENANT_RULES.map((rule) => `"${rule}"`).join(' | ')}`,
    optional: false,
    parse: (variable, where, value) => {
      if (typeof value !== 'string' || !(TENANT_RULES as readonly string[]).includes(value)) {
        throw misconfigured(variable, `${where} "tenant" must be "{repo}" or "{owner}--{repo}"`);
      }
      return value;
    },
  },
  tenants: { shape: '"tenants": [...]', optional: false, parse: configTenants },
  buckets: { shape: '"buckets"?: [...]', optional: true, parse: configBuckets },
  id: {
    shape: '"id"?: number',
    optional: true,
    // A GitHub id: a positive integer, as JSON number or decimal string; kept as a string.
    parse: (variable, where, value) => {
      const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
      if (typeof text !== 'string' || !/^[1-9][0-9]{0,19}$/.test(text)) {
        throw misconfigured(variable, `${where} "id" must be a positive integer (the GitHub id)`);
      }
      return text;
    },
  },
  role: {
    shape: '"role"?: "backup" | "maintain"',
    optional: true,
    // Absent is `backup` (the format before roles); anything else fails closed.
    parse: (variable, where, value) => {
      if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) {
        throw misconfigured(variable, `${where} "role" must be "backup" or "maintain"`);
      }
      return value;
    },
  },
};

const quoted = (fields: readonly string[]): string => {
  const names = fields.map((field) => `"${field}"`);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names.join('');
};

/** The object a grant of these fields is, as an error message shows it. */
export const grantShape = (fields: readonly GrantField[]): string =>
  `{${fields.map((field) => FIELDS[field].shape).join(', ')}}`;

/**
 * One grant: an object of exactly `fields` (the optional ones may be absent), each checked by its
 * rule. Errors name the variable and `where` (the entry), never a value.
 */
export function parseGrant<F extends GrantField>(
  variable: string,
  where: string,
  value: unknown,
  fields: readonly F[],
): Pick<GrantFields, F> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw misconfigured(variable, `${where} must be an object ${grantShape(fields)}`);
  }
  const entry = value as Record<string, unknown>;
  if (Object.keys(entry).some((key) => !(fields as readonly string[]).includes(key))) {
    throw misconfigured(variable, `${where} may only have ${quoted(fields)}`);
  }
  const grant: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = Object.hasOwn(entry, field) ? entry[field] : undefined;
    if (raw === undefined && FIELDS[field].optional) continue;
    grant[field] = FIELDS[field].parse(variable, where, raw);
  }
  return grant as Pick<GrantFields, F>;
}

/** What a grant gives: its tenants, its buckets, and the tenants it may delete from. */
export interface GrantScope {
  tenants: string[];
  buckets: string[];
  maintains: string[];
}

/** A grant's scope; its buckets, when it names none, are those its tenants map to. */
export function grantScope(
  grant: Pick<GrantFields, 'tenants' | 'buckets' | 'role'>,
  tenantBuckets: () => TenantBuckets,
): GrantScope {
  return {
    tenants: grant.tenants,
    buckets: grant.buckets ?? bucketsOfTenants(grant.tenants, tenantBuckets()),
    maintains: grant.role === 'maintain' ? grant.tenants : [],
  };
}
