import { compareBytes, type KvRecord } from '@kv/record';
import { hashKey } from '@kv/sstable';
import type { Run, TableHandle, Version } from './version.js';

/**
 * The newest entry for `k` in the tables of `version`, newest run first: its record
 * (`records`), else its value or null for a tombstone; undefined when no table has it. The
 * key is hashed once, and only for a table whose key range holds it.
 *
 * Runs are searched newest first and a run's tables have disjoint key ranges, so at most one
 * table per run can hold `k` (found by binary search on the ranges), and the first hit is
 * the newest version: every run is newer than the runs after it.
 */
export function searchTables(
  version: Version,
  k: Uint8Array,
  records: boolean,
): KvRecord | Uint8Array | null | undefined {
  let hash: ReturnType<typeof hashKey> | undefined;
  for (const level of version.levels) {
    for (const run of level) {
      const h = tableFor(run, k);
      if (h === undefined) continue;
      hash ??= hashKey(k);
      const found = records ? h.table.get(k, hash) : h.table.getValue(k, hash);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The table of `run` whose [minKey, maxKey] holds `k`, if any. */
function tableFor(run: Run, k: Uint8Array): TableHandle | undefined {
  let lo = 0;
  let hi = run.length;
  while (lo < hi) {
    // First table whose maxKey >= k.
    const mid = (lo + hi) >>> 1;
    if (compareBytes((run[mid] as TableHandle).table.info.maxKey, k) < 0) lo = mid + 1;
    else hi = mid;
  }
  const h = run[lo];
  if (h === undefined || compareBytes(k, h.table.info.minKey) < 0) return undefined;
  return h;
}
