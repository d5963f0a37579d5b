// What a sync has to do, from the local tree and what is known to be stored. Pure logic.
import type { LocalFile } from './local-tree.js';
import type { ManifestEntry } from './manifest.js';

export interface StoredState {
  /** Objects whose size, ETag (and SHA-256 when known) are known to be as recorded. */
  known: Map<string, ManifestEntry>;
  /** Paths an interrupted sync may have uploaded or deleted: uploaded again or deleted. */
  unknown: Set<string>;
}

export interface MirrorPlan {
  uploads: LocalFile[];
  unchanged: LocalFile[];
  /** Paths to delete (stored or possibly stored, not in the tree). */
  deletes: string[];
  /** Paths stored but not in the tree, kept because deleteRemoved is off. */
  kept: string[];
}

export function planMirror(
  files: readonly LocalFile[],
  stored: StoredState,
  deleteRemoved: boolean,
): MirrorPlan {
  const plan: MirrorPlan = { uploads: [], unchanged: [], deletes: [], kept: [] };
  const local = new Set<string>();
  for (const file of files) {
    local.add(file.path);
    const entry = stored.known.get(file.path);
    const same = !stored.unknown.has(file.path) && entry?.size === file.size && entry.sha256 === file.sha256;
    (same ? plan.unchanged : plan.uploads).push(file);
  }
  for (const path of [...stored.known.keys(), ...stored.unknown]) {
    if (local.has(path)) continue;
    if (deleteRemoved) plan.deletes.push(path);
    else if (stored.known.has(path)) plan.kept.push(path);
  }
  plan.deletes = [...new Set(plan.deletes)];
  return plan;
}
