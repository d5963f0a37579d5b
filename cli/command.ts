// The shape of one `r2-backup` command: its flags, its help, and what it does.
import type { ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './usage.js';

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  name: string;
  summary: string;
  help: string;
  options: ParseArgsOptionsConfig;
  allowPositionals?: boolean;
  /** Resolves to the exit code. */
  run(values: OptionValues, positionals: string[]): Promise<number>;
}

/** A whole number flag from 1 to `max`, or undefined when absent. */
export function wholeNumber(values: OptionValues, name: string, max = 100_000): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}`);
  }
  return Number(value);
}
