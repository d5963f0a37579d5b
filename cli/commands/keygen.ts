// r2-backup keygen: a new age identity (the secret key, for whoever restores) and its recipient
// (the public key, for the backup action's encryption-recipients), as age-keygen writes them.
import { writeFileSync } from 'node:fs';
import { generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import type { Command } from '../command.js';
import { UsageError } from '../usage.js';

export const keygen: Command = {
  name: 'keygen',
  summary: 'create an age identity and its recipient for encrypted backups',
  help: `Usage: r2-backup keygen [--output FILE] [--post-quantum]

Creates an age identity (secret key) and prints its recipient (public key). The identity file
is written as age-keygen writes it, to FILE (mode 600, never over an existing file) or to
standard output; the recipient goes to standard error with where to keep each:

  - the recipient (age1...) goes into the backup action's encryption-recipients input; it
    is public, and CI holds nothing that can read a backup;
  - the identity (AGE-SECRET-KEY-1...) stays off CI: in a password manager or an offline
    copy, and only where restores happen (r2-backup restore --identity FILE, or the restore
    sub-action's identity input from a secret). Losing every identity of a backup's
    recipients loses the backup.

The file decrypts with the age tool too: age -d -i FILE x.tar.zst.age | zstd -d | tar -x.

  --output FILE      write the identity to FILE instead of standard output
  --post-quantum     a post-quantum hybrid identity (age1pq1... recipient; age 1.3 or later)`,
  options: {
    output: { type: 'string', short: 'o' },
    'post-quantum': { type: 'boolean' },
  },
  async run(values) {
    const identity = values['post-quantum'] ? await generateHybridIdentity() : await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    const file = `# created: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n# public key: ${recipient}\n${identity}\n`;
    if (typeof values.output === 'string') {
      try {
        writeFileSync(values.output, file, { flag: 'wx', mode: 0o600 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST')
          throw new UsageError(`${values.output} exists: keygen never overwrites an identity`);
        throw error;
      }
      console.error(`Identity written to ${values.output}: keep it off CI, where restores happen.`);
    } else {
      process.stdout.write(file);
      console.error('Identity printed above: keep it off CI, where restores happen.');
    }
    console.error(`Public key (for encryption-recipients): ${recipient}`);
    return 0;
  },
};
