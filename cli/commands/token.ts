// r2-backup token create: a tenant token, printed once, and the Worker's TENANT_TOKENS entry.
import { createTenantToken } from '../../action/tenant-token.js';
import type { Command } from '../command.js';
import { UsageError } from '../usage.js';

export const token: Command = {
  name: 'token',
  summary: 'create a tenant token (token create --tenant T)',
  help: `Usage: r2-backup token create --tenant T [--tenant T2 ...] [--bucket B ...]

Prints a new random token once, and the entry to add to the Worker's TENANT_TOKENS secret,
which holds only the token's SHA-256. The token may touch only the given tenants (and, with
--bucket, only those buckets; without, the buckets its tenants map to). Store the token as
the repository's secret for the action's api-token.`,
  options: { tenant: { type: 'string', multiple: true }, bucket: { type: 'string', multiple: true } },
  allowPositionals: true,
  async run(values, positionals) {
    if (positionals.length !== 1 || positionals[0] !== 'create')
      throw new UsageError('the subcommand is: token create');
    const tenants = (values.tenant as string[] | undefined) ?? [];
    if (tenants.length === 0) throw new UsageError('--tenant is required');
    const created = createTenantToken(tenants, (values.bucket as string[] | undefined) ?? []);
    console.log(`Token (shown only now; store it as a secret, e.g. gh secret set CLOUDCONNECT):
${created.token}

Add this entry to the JSON object of the Worker's TENANT_TOKENS secret
(wrangler secret put TENANT_TOKENS):
${created.configEntry}

Records written with it name the principal ${created.principal}.`);
    return 0;
  },
};
