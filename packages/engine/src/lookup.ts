import { compareBytes, type KvRecord, prefix32 } from '@kv/record';
import { hashKey } from '@kv/sstable';
import type { SearchRun, TableHandle, Version } from './version.js';

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
  const kp = prefix32(k, 0, k.length);
  for (const run of version.searchRuns) {
    const h = tableFor(run, k, kp);
    if (h === undefined) continue;
    hash ??= hashKey(k);
    const found = records ? h.table.get(k, hash) : h.table.getValue(k, hash);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The table of `run` whose [minKey, maxKey] holds `k` (whose prefix32 is `kp`), if any. */
function tableFor(run: SearchRun, k: Uint8Array, kp: number): TableHandle | undefined {
  const tables = run.tables;
  const maxPrefix = run.maxPrefix;
  let lo = 0;
  let hi = tables.length;
  while (lo < hi) {
    // First table whose maxKey >= k.
    const mid = (lo + hi) >>> 1;
    const p = maxPrefix[mid] as number;
    if (p < kp || (p === kp && compareBytes((tables[mid] as TableHandle).table.info.maxKey, k) < 0)) lo = mid + 1;
    else hi = mid;
  }
  const h = tables[lo];
  if (h === undefined) return undefined;
  const p = run.minPrefix[lo] as number;
  if (p > kp || (p === kp && compareBytes(k, h.table.info.minKey) < 0)) return undefined;
  return h;
}
