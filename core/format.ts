// One formatter for the sizes, rates and durations that the action, the restore sub-action and
// the CLI print, so that `305.08474576271186 B/s` cannot appear anywhere.
const KIB = 1024;
const MIB = KIB * KIB;
const GIB = KIB * MIB;

/** A byte count in B, KiB, MiB or GiB (one decimal above bytes). */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  if (bytes >= KIB) return `${(bytes / KIB).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** Bytes over milliseconds as a rate per second. */
export const formatRate = (bytes: number, ms: number): string =>
  `${formatBytes((bytes / Math.max(ms, 1)) * 1000)}/s`;

/** Milliseconds as `0.4 s`, `12.0 s`, `3 min 05 s` or `2 h 04 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  const minutes = Math.round(whole / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
