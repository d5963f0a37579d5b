// The environment that runs a child process (the action, the CLI) on a test clock, through the
// preload clock-preload.mjs: the code under test reads the time as it always does.
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-stack.js';

/** The process's clock reads `start` at its first reading and runs on from there. */
export const clockStartingAt = (start: Date): Record<string, string> => ({
  NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${join(ROOT, 'test/helpers/clock-preload.mjs')}`]
    .filter(Boolean)
    .join(' '),
  R2_BACKUP_TEST_CLOCK_START: start.toISOString(),
});
