// r2-backup token create: a tenant token, printed once, and the Worker's TENANT_TOKENS entry.
import { createTenantToken, type TokenRole } from '../../core/worker-api/tenant-token.js';
import type { Command } from '../command.js';
import { UsageError } from '../usage.js';
import { checkTenant } from '../../common/validate.js';
import { checkedDefaultBucket } from '../../common/naming.js';

export const token: Command = {
  name: 'token',
  summary: 'create a tenant token (token create --tenant T)',
  help: `Usage: r2-backup token create --tenant T [--tenant T2 ...] [--bucket B ...] [--role R] [--json]

Prints a new random token once, and the entry to add to the Worker's TENANT_TOKENS secret,
which holds only the token's SHA-256. The token may touch only the given tenants (and, with
--bucket, only those buckets; without, the buckets its tenants map to).

  --role backup     (default) add, list, read, restore and verify backups; never delete:
                    what a repository's workflow needs. Store it as the repository secret
                    R2_BACKUP_TOKEN for the action's api-token.
  --role maintain   also prune and delete backups: for operators and cleanup jobs, not for
                    the repositories being backed up. The Worker's own retention
                    (RETENTION_POLICIES) needs no such token.
  --tenant T        a tenant the token may use (repeat for more; required)
  --bucket B        a bucket the token may use (repeat for more; default: its tenants' buckets)
  --json            print {token, sha256, role, tenants, buckets, principal, tenant_tokens_entry}
                    instead (README: "JSON output"); tenant_tokens_entry is the object to merge
                    into TENANT_TOKENS`,
  options: {
    tenant: { type: 'string', multiple: true },
    bucket: { type: 'string', multiple: true },
    role: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals) {
    if (positionals.length !== 1 || positionals[0] !== 'create')
      throw new UsageError('the subcommand is: token create');
    const tenants = (values.tenant as string[] | undefined) ?? [];
    if (tenants.length === 0) throw new UsageError('--tenant is required');
    const buckets = (values.bucket as string[] | undefined) ?? [];
    // As the Worker checks them: a tenant it refuses, or whose default bucket R2 cannot have
    // (the token would be granted no bucket), makes a token that can do nothing.
    for (const tenant of tenants) {
      checkTenant(tenant, '--tenant');
      if (buckets.length === 0)
        checkedDefaultBucket(
          tenant,
          '--tenant (its default bucket)',
          "give --bucket (the bucket the Worker's TENANT_BUCKETS maps it to)",
        );
    }
    const role = (values.role as string | undefined) ?? 'backup';
    if (role !== 'backup' && role !== 'maintain')
      throw new UsageError('--role must be backup (the default) or maintain');
    const created = createTenantToken(
      tenants,
      (values.bucket as string[] | undefined) ?? [],
      role as TokenRole,
    );
    if (values.json) {
      type Scope = { tenants: string[]; buckets?: string[] };
      const entry = JSON.parse(`{${created.configEntry}}`) as Record<string, Scope>;
      const scope = entry[created.sha256]!;
      console.log(
        JSON.stringify(
          {
            token: created.token,
            sha256: created.sha256,
            role,
            tenants: scope.tenants,
            buckets: scope.buckets ?? null,
            principal: created.principal,
            tenant_tokens_entry: entry,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    const store =
      role === 'backup'
        ? 'store it as the repository secret, e.g. gh secret set R2_BACKUP_TOKEN'
        : 'it may delete backups: keep it with operators, never in the repositories it protects';
    console.log(`Token with the ${role} role (shown only now; ${store}):
${created.token}

Add this entry to the JSON object of the Worker's TENANT_TOKENS secret
(wrangler secret put TENANT_TOKENS):
${created.configEntry}

Records written with it name the principal ${created.principal}.`);
    return 0;
  },
};
