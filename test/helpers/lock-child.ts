// Takes a restore target's lock (withStaging) in its own process, for the lock's stress test:
// prints "ready", waits for a line on stdin (so that many start together), then holds the
// target HOLD_MS and prints "won", or prints "refused" (another process holds it), or "overlap"
// when it got in while another process was inside too.
// Node runs this file directly (type stripping): node test/helpers/lock-child.ts TARGET HOLD_MS
import '../../scripts/ts-resolve.ts';
import { rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';

const { withStaging } = await import('../../core/restore/staging.ts');
const [target, holdMs] = process.argv.slice(2) as [string, string];
console.log('ready');
await once(process.stdin, 'data');
process.stdin.pause();
const inside = `${target}.inside`;
try {
  const outcome = await withStaging(target, { given: false, name: '--force' }, async () => {
    try {
      writeFileSync(inside, `${process.pid}\n`, { flag: 'wx' });
    } catch {
      return 'overlap';
    }
    await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
    rmSync(inside);
    return 'won';
  });
  console.log(outcome);
} catch (error) {
  console.log(
    /^Another restore/.test((error as Error).message) ? 'refused' : `error: ${(error as Error).message}`,
  );
}
