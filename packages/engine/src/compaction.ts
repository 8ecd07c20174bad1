import type { TableHandle } from './version.js';

export interface CompactionPlan {
  level: number;
  outputLevel: number;
  inputs: readonly TableHandle[];
  /** No older data can exist below the output: tombstones may be dropped. */
  dropTombstones: boolean;
}

/**
 * Size-tiered, as nakevaleng: a level holding `runsPerLevel` runs is merged into one run on
 * the next level; the last level merges into itself. Picks the shallowest such level.
 */
export function pickCompaction(
  levels: readonly (readonly TableHandle[])[],
  runsPerLevel: number,
  force = false,
): CompactionPlan | null {
  const last = levels.length - 1;
  for (let level = 0; level <= last; level++) {
    const runs = levels[level] as readonly TableHandle[];
    const due = runs.length >= runsPerLevel || (force && runs.length > 0 && (level < last || runs.length > 1));
    if (!due) continue;
    const outputLevel = Math.min(level + 1, last);
    let deeperEmpty = true;
    for (let j = level + 1; j <= last; j++) if ((levels[j] as readonly TableHandle[]).length > 0) deeperEmpty = false;
    return { level, outputLevel, inputs: runs, dropTombstones: deeperEmpty };
  }
  return null;
}
