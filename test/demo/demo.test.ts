// `npm run demo` as a new user runs it (scripts/node24.sh node scripts/demo.ts, on PORT): it
// backs this repository up through dist/index.js, restores the backup with dist/cli/index.js,
// checks it, and prints the next commands; the printed `list` then works against a Worker
// started as `npm run dev` starts it (no --env) on that port.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, freePort, startLocalStack } from '../../scripts/local-stack.js';

const exec = promisify(execFile);

test('the demo restores what it backed up and prints the next commands for its PORT', async () => {
  const port = await freePort();
  const { stdout } = await exec(join(ROOT, 'scripts/node24.sh'), ['node', 'scripts/demo.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    maxBuffer: 16 * 1024 * 1024,
  });
  const url = `http://127.0.0.1:${port}`;
  expect(stdout).toContain(`Worker: GET ${url}/api/github/backup/autonomous-coding-agent/`);
  const stored = /\((\d+) bytes, (\d+) files\)/.exec(stdout);
  expect(stored).not.toBeNull();
  expect(stdout).toMatch(/Restored \d+-\d+\.tar\.gz into .* sha256 [0-9a-f]{64} verified/);
  expect(stdout).toContain(
    `Restored and checked: ${stored![2]} files, as many as the backup holds; LICENSE, package.json, worker/wrangler.toml identical to the checkout.`,
  );
  // It ends with the next commands, for this port.
  const next = stdout.slice(stdout.indexOf('\nNext: '));
  expect(next).toContain(`on ${url}\n`);
  expect(next).toContain(`  PORT=${port} npm run dev\n`);
  expect(next.trimEnd().endsWith('To add a tenant of your own, step by step: docs/onboarding.md')).toBe(true);
  const list = next.split('\n').find((line) => line.includes(' node dist/cli/index.js list '));
  expect(list).toContain(`R2_BACKUP_API_URL=${url} `);
  expect(list).toContain('--tenant autonomous-coding-agent --bucket autonomous-coding-agent');

  // The printed command, run as printed (with the token worker/.dev.vars would give), against
  // the Worker that `npm run dev` starts on that port.
  const token = randomBytes(16).toString('hex');
  const fromDevVars = "$(sed -n 's/^CLOUDCONNECT=//p' worker/.dev.vars)";
  expect(list).toContain(`R2_BACKUP_API_TOKEN=${fromDevVars} `);
  const dev = await startLocalStack({ port, vars: { CLOUDCONNECT: token } });
  try {
    const listed = await exec('sh', ['-c', list!.trim().replace(fromDevVars, token)], { cwd: ROOT });
    expect(listed.stdout).toContain(
      'No backups of tenant autonomous-coding-agent in bucket autonomous-coding-agent.',
    );
  } finally {
    await dev.stop();
  }
}, 240_000);
