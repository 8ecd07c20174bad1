import { aboveLower, belowUpper, compareBytes, type KeyRange, type KvRecord } from '@kv/record';
import type { ScanOptions, Table } from '@kv/sstable';

/**
 * Merges sources that each yield records in key order (descending when `reverse`) into one
 * stream holding, for every key, only the version with the highest seq — tombstones
 * included, so the caller decides whether to hide them. Lazy; closes every source when done
 * or abandoned.
 *
 * The sources' heads sit in a binary heap ordered by key, then by seq descending, so a step
 * costs O(log n) key comparisons: a compaction of level 0 can have dozens of inputs (it
 * piles up while a deeper merge runs), and comparing every head per record made merges
 * slower the more runs there were to merge.
 */
export function* mergeNewest(sources: Iterator<KvRecord>[], reverse: boolean): Generator<KvRecord, void, undefined> {
  // The sources that had a record, and the record each is at now; heap holds indexes of
  // those not yet done, heap[0] the one whose head comes first.
  const live: Iterator<KvRecord>[] = [];
  const heads: KvRecord[] = [];
  const heap: number[] = [];
  /** Whether head a comes before head b: key order, then the newer version first. */
  const before = (a: KvRecord, b: KvRecord): boolean => {
    const c = compareBytes(a.key, b.key);
    if (c !== 0) return reverse ? c > 0 : c < 0;
    return a.seq > b.seq;
  };
  const siftDown = (at: number): void => {
    const n = heap.length;
    const item = heap[at] as number;
    const rec = heads[item] as KvRecord;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && before(heads[heap[right] as number] as KvRecord, heads[heap[child] as number] as KvRecord)) {
        child = right;
      }
      if (!before(heads[heap[child] as number] as KvRecord, rec)) break;
      heap[at] = heap[child] as number;
      at = child;
    }
    heap[at] = item;
  };
  /** Replaces the first head with its source's next record, or drops it when the source is done. */
  const advanceFirst = (): void => {
    const item = heap[0] as number;
    const next = (live[item] as Iterator<KvRecord>).next();
    if (next.done === true) {
      const last = heap.pop() as number;
      if (heap.length === 0) return;
      heap[0] = last;
    } else {
      heads[item] = next.value;
    }
    siftDown(0);
  };
  try {
    for (const source of sources) {
      const first = source.next();
      if (first.done === true) continue;
      live.push(source);
      heads.push(first.value);
      heap.push(heads.length - 1);
    }
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
    while (heap.length > 0) {
      const best = heads[heap[0] as number] as KvRecord;
      // Older versions of the same key come right after it in heap order: skip them all.
      advanceFirst();
      while (heap.length > 0 && compareBytes((heads[heap[0] as number] as KvRecord).key, best.key) === 0) {
        advanceFirst();
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
