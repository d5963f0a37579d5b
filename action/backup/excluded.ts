// The tree the archive holds, and the log's account of what the exclude patterns left out: a
// backup that silently drops files (a committed dist/) is found out only at restore.
import type { ArchiveResult } from '../../core/archive/stream.js';
import { formatBytes } from '../../core/format.js';
import { trackedPaths } from '../../core/git/tracked.js';
import type { TrackedPaths } from '../../core/tree/excludes.js';
import { measureExcluded } from '../../core/tree/size.js';
import type { ActionInputs } from '../inputs.js';

export interface ArchivedTree {
  root: string;
  excludes: string[];
  /** With the default excludes: what git tracks, kept although a pattern matches it. */
  tracked?: TrackedPaths;
}

export async function archivedTree(inputs: ActionInputs): Promise<ArchivedTree> {
  const tracked = inputs.keepTracked ? await trackedPaths(inputs.path) : undefined;
  return { root: inputs.path, excludes: inputs.excludes, tracked };
}

/** Patterns for the size estimate, which skips names equal to a pattern: one that git tracks
 *  somewhere is not skipped (a too-large estimate is safe, a too-small one is not). */
export function estimateExcludes(tree: ArchivedTree): string[] {
  if (!tree.tracked) return tree.excludes;
  const tracked = [...tree.tracked];
  return tree.excludes.filter((p) => !tracked.some((path) => path === p || path.endsWith(`/${p}`)));
}

export interface ExcludedAccount {
  /** For the log, one line each. */
  lines: string[];
  /** For the job summary, one cell; undefined when nothing matched. */
  summary?: string;
}

export function accountOfExcluded(tree: ArchivedTree, archive: ArchiveResult): ExcludedAccount {
  const totals = measureExcluded(tree.root, archive.excluded);
  const parts = totals.map(
    (t) => `${t.pattern}: ${t.entries} ${t.entries === 1 ? 'entry' : 'entries'}, ${formatBytes(t.bytes)}`,
  );
  const kept = [...new Set(archive.keptTracked.map((k) => k.relativePath))];
  const lines: string[] = [];
  if (parts.length > 0) lines.push(`Excluded: ${parts.join('; ')}`);
  if (kept.length > 0) {
    lines.push(
      `Kept although a default exclude matches, because git tracks it: ${kept.join(', ')} (an explicit exclude input applies exactly as given)`,
    );
  }
  const cells = [...parts, ...(kept.length > 0 ? [`kept (tracked by git): ${kept.join(', ')}`] : [])];
  // Names come from the repository: escaped, since the summary is HTML.
  const html = cells.map((cell) => cell.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`));
  return { lines, summary: html.length > 0 ? html.join('<br>') : undefined };
}
