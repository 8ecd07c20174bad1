import { compareBytes, type KvRecord } from '@kv/record';

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
