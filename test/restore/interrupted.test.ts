// A restore interrupted by Ctrl-C or by the runner (SIGINT, SIGTERM) leaves no staging
// directory behind and exits with the signal's conventional status.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-stack.js';

let work: string;
beforeAll(() => (work = mkdtempSync(join(tmpdir(), 'restore-interrupted-'))));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s during a restore removes its staging directory', async (signal, status) => {
  const box = mkdtempSync(join(work, 'box-'));
  const child = spawn(process.execPath, [join(ROOT, 'test/helpers/restore-child.ts'), join(box, 'target')]);
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  // The staging directory exists while the download stalls.
  await waitFor(() => readdirSync(box).some((name) => name.includes('.restore-')));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  expect(await exit).toBe(status);
  expect(stderr).toMatch(/Interrupted.*staging removed/);
  expect(readdirSync(box)).toEqual([]);
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(condition()).toBe(true);
}
