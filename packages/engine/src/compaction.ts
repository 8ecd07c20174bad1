import type { Run, TableHandle } from './version.js';

export interface CompactionPlan {
  level: number;
  outputLevel: number;
  /** Every run of the level, newest first. */
  runs: readonly Run[];
  /** Their tables. */
  inputs: readonly TableHandle[];
  /** No older data can exist below the output: tombstones may be dropped. */
  dropTombstones: boolean;
}

/**
 * Size-tiered, as nakevaleng: a level holding `runsPerLevel` runs is merged into one run on
 * the next level; the last level merges into itself. Picks the shallowest such level. Runs
 * are counted, not tables: the run a compaction writes may be several tables (`tableBytes`),
 * and a last level holding one such run is done, however many tables it has.
 */
export function pickCompaction(
  levels: readonly (readonly Run[])[],
  runsPerLevel: number,
  force = false,
): CompactionPlan | null {
  const last = levels.length - 1;
  for (let level = 0; level <= last; level++) {
    const runs = levels[level] as readonly Run[];
    const due = runs.length >= runsPerLevel || (force && runs.length > 0 && (level < last || runs.length > 1));
    if (!due) continue;
    const outputLevel = Math.min(level + 1, last);
    let deeperEmpty = true;
    for (let j = level + 1; j <= last; j++) if ((levels[j] as readonly Run[]).length > 0) deeperEmpty = false;
    return { level, outputLevel, runs, inputs: runs.flat(), dropTombstones: deeperEmpty };
  }
  return null;
}
