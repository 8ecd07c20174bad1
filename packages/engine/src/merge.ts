import { aboveLower, belowUpper, compareBytes, type KeyRange, type KvRecord } from '@kv/record';
import type { ScanOptions, Table } from '@kv/sstable';

/**
 * Merges sources that each yield records in key order (descending when `reverse`) into one
 * stream holding, for every key, only the version with the highest seq — tombstones
 * included, so the caller decides whether to hide them. Lazy; closes every source when done
 * or abandoned.
 */
export function* mergeNewest(sources: Iterator<KvRecord>[], reverse: boolean): Generator<KvRecord, void, undefined> {
  const heads: (KvRecord | undefined)[] = sources.map((s) => s.next().value ?? undefined);
  try {
    for (;;) {
      let best: KvRecord | undefined;
      for (const h of heads) {
        if (h === undefined) continue;
        if (best === undefined) {
          best = h;
          continue;
        }
        const c = compareBytes(h.key, best.key);
        if (reverse ? c > 0 : c < 0) best = h;
        else if (c === 0 && h.seq > best.seq) best = h;
      }
      if (best === undefined) return;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && compareBytes(h.key, best.key) === 0) {
          heads[i] = (sources[i] as Iterator<KvRecord>).next().value ?? undefined;
        }
      }
      yield best;
    }
  } finally {
    for (const s of sources) s.return?.();
  }
}

/**
 * The entries of one run within `range`: its tables one after another (their key ranges are
 * disjoint and ascending), last table first when `range.reverse`. One source for the merge
 * however many tables the run has, so a merge step compares one head per run; a table is read
 * only once the scan reaches it, and tables wholly outside `range` are not read at all. A run
 * of one table is that table's own scan, with no extra generator in between.
 */
export function runEntries(tables: readonly Table[], range: KeyRange, options: ScanOptions = {}): Iterator<KvRecord> {
  if (tables.length === 1) return (tables[0] as Table).entries(range, options);
  return concatenated(tables, range, options);
}

function* concatenated(
  tables: readonly Table[],
  range: KeyRange,
  options: ScanOptions,
): Generator<KvRecord, void, undefined> {
  const reverse = range.reverse === true;
  for (let i = 0; i < tables.length; i++) {
    const t = tables[reverse ? tables.length - 1 - i : i] as Table;
    const { minKey, maxKey } = t.info;
    if (t.info.count === 0) continue;
    if (reverse ? !belowUpper(minKey, range) : !aboveLower(maxKey, range)) continue;
    if (reverse ? !aboveLower(maxKey, range) : !belowUpper(minKey, range)) return;
    yield* t.entries(range, options);
  }
}
