#!/usr/bin/env node
// r2-backup: list, restore, verify and prune the backups the action stores, and create tenant
// tokens. Each command lives in cli/commands/; this file only dispatches and reports errors.
import { parseArgs } from 'node:util';
import packageJson from '../package.json' with { type: 'json' };
import { ValidationError } from '../common/validate.js';
import { COMMANDS } from './commands/all.js';
import { PROGRESS_VARIABLE, progressInterval } from './progress.js';
import { TENANT_VARIABLE } from './connection.js';
import { UsageError } from './usage.js';
import { EXIT, EXIT_CODES_HELP, exitCodeOf, explain } from '../core/errors.js';

const HELP = `Usage: r2-backup <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)}${c.summary}`).join('\n')}

Run r2-backup <command> --help for a command's flags; r2-backup --version prints the version.
Credentials come from flags or from R2_BACKUP_API_URL, R2_BACKUP_API_TOKEN, R2_ACCOUNT_ID or
R2_ENDPOINT, R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY; ${TENANT_VARIABLE} stands for --tenant.
Results go to stdout (--json for scripts); progress of long operations goes to stderr, one
line every 5 s (${PROGRESS_VARIABLE} sets another interval in milliseconds).

${EXIT_CODES_HELP}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    console.log(`r2-backup ${packageJson.version}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`r2-backup: unknown command "${name}"\n\n${HELP}`);
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
    if (values.help) {
      console.log(command.help);
      return 0;
    }
    progressInterval(); // a bad R2_BACKUP_PROGRESS_MS is a usage error before anything starts
    return await command.run(values, positionals);
  } catch (error) {
    const usage =
      error instanceof UsageError ||
      error instanceof ValidationError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    // The message, the Worker's reason in it, and the README entry that fixes it.
    console.error(`r2-backup ${name}: ${explain(error)}`);
    if (usage) console.error(`Run r2-backup ${name} --help for its flags.`);
    return usage ? EXIT.usage : exitCodeOf(error);
  }
}

process.exitCode = await main(process.argv.slice(2));
