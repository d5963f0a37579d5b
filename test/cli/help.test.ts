// Every flag of every command is in its --help, read from the options object the command parses
// with (so a flag added without help fails here); the main help lists every command; --version
// prints package.json's version. Through the bundle, as a user runs it: node dist/cli/index.js.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../cli/commands/all.js';
import { ROOT } from '../../scripts/local-stack.js';
import { runCli } from './helpers.js';

/** The help below its Usage lines, where each flag is described (the synopsis alone is not help). */
const described = (help: string): string => help.slice(help.indexOf('\n\n'));
/** `--json` as a word: not the start of `--json-lines`. */
const mentions = (text: string, flag: string): boolean =>
  new RegExp(`(^|[^\\w-])--${flag}(?![\\w-])`, 'm').test(text);

test.each(COMMANDS.map((command) => [command.name, command] as const))(
  '%s --help describes every flag the command parses',
  async (name, command) => {
    const run = await runCli([name, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(command.help.trim());
    const flags = Object.keys(command.options);
    expect(flags.length).toBeGreaterThan(0);
    const undocumented = flags.filter((flag) => !mentions(described(run.stdout), flag));
    expect(undocumented).toEqual([]);
  },
);

test('the check finds a flag that is not described', () => {
  const help = 'Usage: r2-backup x --tenant T [--json]\n\n  --tenant T   tenant\n  --json-lines  other';
  expect(mentions(described(help), 'tenant')).toBe(true);
  expect(mentions(described(help), 'json')).toBe(false);
});

test('the main help lists every command, the environment variables and --version', async () => {
  const run = await runCli(['--help']);
  expect(run.code).toBe(0);
  for (const { name, summary } of COMMANDS) expect(run.stdout).toContain(`  ${name.padEnd(9)}${summary}`);
  for (const word of ['--version', 'R2_BACKUP_TENANT', 'R2_BACKUP_PROGRESS_MS', '--json'])
    expect(run.stdout).toContain(word);
});

test('--version prints the version of package.json', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const run = await runCli(['--version']);
  expect(run.code).toBe(0);
  expect(run.stdout).toBe(`r2-backup ${version}\n`);
});
