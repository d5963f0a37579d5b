// Progress of the CLI's long operations: one line on stderr every few seconds (stdout stays for
// results and --json), on a terminal and in CI alike, so a log shows how far a run got.
import { formatBytes, formatDuration, formatRate } from '../core/format.js';
import type { RestoreProgress } from '../core/restore/archive.js';
import { UsageError } from './usage.js';

/** How often a line is printed; R2_BACKUP_PROGRESS_MS changes it (tests, chattier CI logs). */
export const PROGRESS_VARIABLE = 'R2_BACKUP_PROGRESS_MS';
const DEFAULT_INTERVAL_MS = 5000;

export function progressInterval(): number {
  const value = process.env[PROGRESS_VARIABLE];
  if (value === undefined || value === '') return DEFAULT_INTERVAL_MS;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${PROGRESS_VARIABLE} must be a whole number of milliseconds (1 or more)`);
  return Number(value);
}

/** How far an operation is: `done` of `total` units (bytes or items), plus words of its own. */
export interface ProgressState {
  done: number;
  total?: number;
  /** Appended after the counts, e.g. `1,204 entries`. */
  detail?: string;
}

export interface ProgressOptions {
  /** Starts the line: `restore: downloaded`. */
  label: string;
  /** Whether done and total count bytes (sizes and rates in KiB, MiB) or items (`noun`s);
   *  'elapsed' for work that reports nothing until it ends (one request): the time so far. */
  unit: 'bytes' | { noun: string } | 'elapsed';
  /** What is known before the first update (the total); until there is a state, nothing is
   *  printed, except for 'elapsed'. */
  initial?: ProgressState;
  intervalMs?: number;
  write?: (line: string) => void;
}

const count = (n: number, unit: 'bytes' | { noun: string }): string =>
  unit === 'bytes' ? formatBytes(n) : `${n.toLocaleString('en-US')} ${unit.noun}`;

/** One progress line: `restore: downloaded 12.0 MiB of 50.0 MiB (24%), 3.1 MiB/s, ETA 9.0 s`. */
export function describeProgress(
  { label, unit }: Pick<ProgressOptions, 'label' | 'unit'>,
  { done, total, detail }: ProgressState,
  elapsedMs: number,
): string {
  if (unit === 'elapsed') return `${label}, ${formatDuration(elapsedMs)} so far`;
  const parts = [`${label} ${count(done, unit)}${total === undefined ? '' : ` of ${count(total, unit)}`}`];
  if (total !== undefined && total > 0) parts[0] += ` (${Math.floor((done / total) * 100)}%)`;
  if (detail) parts.push(detail);
  const perMs = done / Math.max(elapsedMs, 1);
  parts.push(unit === 'bytes' ? formatRate(done, elapsedMs) : `${(perMs * 1000).toFixed(1)} ${unit.noun}/s`);
  if (total !== undefined && done > 0 && done < total)
    parts.push(`ETA ${formatDuration((total - done) / perMs)}`);
  return parts.join(', ');
}

/** Prints the latest state every interval until stopped; prints nothing for operations that
 *  end within one interval. The timer never keeps the process alive. */
export class Progress {
  private state: ProgressState | undefined;
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: ProgressOptions) {
    const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
    this.state = options.initial ?? (options.unit === 'elapsed' ? { done: 0 } : undefined);
    this.timer = setInterval(() => {
      if (this.state) write(describeProgress(options, this.state, Date.now() - this.started));
    }, options.intervalMs ?? progressInterval());
    this.timer.unref();
  }

  update(state: ProgressState): void {
    this.state = state;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** A restore's progress: the download (bytes of the record's size), then the extraction (the
 *  staged archive read back, and entries so far), each phase with a line and a rate of its own. */
export function restoreProgress(): { onProgress: (progress: RestoreProgress) => void; stop: () => void } {
  let phase: RestoreProgress['phase'] | undefined;
  let current: Progress | undefined;
  return {
    onProgress({ phase: now, done, total, entries }) {
      if (now !== phase) {
        current?.stop();
        phase = now;
        current = new Progress({
          label: now === 'download' ? 'restore: downloaded' : 'restore: extracted, archive read',
          unit: 'bytes',
        });
      }
      current!.update({
        done,
        total,
        ...(now === 'extract' && { detail: `${entries.toLocaleString('en-US')} entries` }),
      });
    },
    stop: () => current?.stop(),
  };
}
