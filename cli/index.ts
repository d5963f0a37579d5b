#!/usr/bin/env node
// r2-backup: list, restore, verify and prune the backups the action stores, and create tenant
// tokens. Each command lives in cli/commands/; this file only dispatches and reports errors.
import { parseArgs } from 'node:util';
import { ValidationError } from '../common/validate.js';
import type { Command } from './command.js';
import { list } from './commands/list.js';
import { prune } from './commands/prune.js';
import { restore } from './commands/restore.js';
import { token } from './commands/token.js';
import { verify } from './commands/verify.js';
import { UsageError } from './usage.js';

const COMMANDS: Command[] = [list, restore, verify, prune, token];

const HELP = `Usage: r2-backup <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)}${c.summary}`).join('\n')}

Run r2-backup <command> --help for a command's flags. Credentials come from flags or from
R2_BACKUP_API_URL, R2_BACKUP_API_TOKEN, R2_ACCOUNT_ID or R2_ENDPOINT, R2_ACCESS_KEY_ID and
R2_SECRET_ACCESS_KEY.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`r2-backup: unknown command "${name}"\n\n${HELP}`);
    return 2;
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
    return await command.run(values, positionals);
  } catch (error) {
    const usage =
      error instanceof UsageError ||
      error instanceof ValidationError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`r2-backup ${name}: ${(error as Error).message}`);
    if (usage) console.error(`Run r2-backup ${name} --help for its flags.`);
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
