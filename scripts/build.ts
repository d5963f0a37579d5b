// Bundles each entry point with ncc into its directory under dist/ (or under --out DIR, which
// the staleness test uses). Add an entry here for each new bundle (a CLI, a sub-action).
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './local-stack.ts';

export const ENTRIES: { entry: string; out: string }[] = [
  { entry: 'action/backup/index.ts', out: 'dist' },
  { entry: 'cli/index.ts', out: 'dist/cli' },
  { entry: 'action/restore/index.ts', out: 'dist/restore' },
];

const outFlag = process.argv.indexOf('--out');
const outRoot = outFlag >= 0 ? resolve(process.argv[outFlag + 1]!) : ROOT;

for (const { entry, out } of ENTRIES) {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/@vercel/ncc/dist/ncc/cli.js'),
      'build',
      entry,
      '-o',
      join(outRoot, out),
      '--license',
      'licenses.txt',
      '--quiet',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
// `npx r2-backup` runs the CLI's bundle directly (package.json bin): it must be executable.
chmodSync(join(outRoot, 'dist/cli/index.js'), 0o755);
