// What jest's global setup tells the suites about the shared local stacks: one file, named by an
// environment variable (which reaches the jest workers), holding the admin token and the address
// of the setup's stack service. A file rather than variables keeps the token out of the
// environment of every process the suites start.
import { readFileSync, writeFileSync } from 'node:fs';

export const SHARED_STACKS_VARIABLE = 'TEST_SHARED_STACKS_FILE';

export interface SharedStacks {
  /** The admin token, CLOUDCONNECT, of every shared stack. */
  token: string;
  /** GET `${service}/stack?worker=ID` answers that worker's stack (SharedStackAddress). */
  service: string;
}

/** A shared stack as the service describes it to a suite. */
export interface SharedStackAddress {
  url: string;
  s3Endpoint: string;
  persistTo: string;
  pid: number;
  /** wrangler's output, appended as it runs. */
  logFile: string;
}

export function writeSharedStacks(file: string, stacks: SharedStacks): void {
  writeFileSync(file, JSON.stringify(stacks), { mode: 0o600 });
  process.env[SHARED_STACKS_VARIABLE] = file;
}

export function readSharedStacks(): SharedStacks {
  const file = process.env[SHARED_STACKS_VARIABLE];
  if (!file)
    throw new Error(
      `${SHARED_STACKS_VARIABLE} is not set: the shared local stacks come from jest's globalSetup (jest.config.js)`,
    );
  return JSON.parse(readFileSync(file, 'utf8')) as SharedStacks;
}
