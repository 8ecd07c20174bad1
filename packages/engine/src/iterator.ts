import { copyBytes, describe, type KeyRange, KvRecord, toBytes } from '@kv/record';
import type { MemtableSnapshot } from '@kv/memtable';
import { mergeNewest, runEntries } from './merge.js';
import type { Version } from './version.js';

export interface IteratorOptions {
  gt?: string | Uint8Array | undefined;
  gte?: string | Uint8Array | undefined;
  lt?: string | Uint8Array | undefined;
  lte?: string | Uint8Array | undefined;
  /** Descending key order. Default false. */
  reverse?: boolean | undefined;
  /** Stop after this many entries. Default: no limit. */
  limit?: number | undefined;
}

/** Bounds converted to bytes. */
export interface ResolvedRange extends KeyRange {
  limit?: number | undefined;
}

/** Checks iterator options (TypeError on bad ones) and resolves string bounds to bytes. */
export function resolveRange(options: IteratorOptions): ResolvedRange {
  if (options === null || typeof options !== 'object') throw new TypeError('iterator options must be an object');
  const bound = (name: 'gt' | 'gte' | 'lt' | 'lte') => {
    const v = options[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' && !(v instanceof Uint8Array)) {
      throw new TypeError(`${name} must be a string or a Uint8Array, got ${describe(v)}`);
    }
    return typeof v === 'string' ? toBytes(v) : v;
  };
  const limit = options.limit;
  if (limit !== undefined && (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0)) {
    throw new TypeError('limit must be a non-negative number');
  }
  const range: ResolvedRange = {
    gt: bound('gt'),
    gte: bound('gte'),
    lt: bound('lt'),
    lte: bound('lte'),
    reverse: options.reverse === true,
    limit: limit === undefined || limit === Number.POSITIVE_INFINITY ? undefined : Math.floor(limit),
  };
  return range;
}

export type Entry = [key: Uint8Array, value: Uint8Array];

/**
 * A memtable's records with their key and value copied: its bytes may be views of the
 * WAL's mapping (replay adopts it), which a caller must never be able to write to. Tables
 * hand out copies already.
 */
function* copies(records: Iterator<KvRecord>): Generator<KvRecord, void, undefined> {
  for (let step = records.next(); step.done !== true; step = records.next()) {
    const r = step.value;
    yield r.tombstone ? r : KvRecord.trusted(copyBytes(r.key), copyBytes(r.value), false, r.timestamp, r.seq, r.type);
  }
}

/**
 * A consistent view of the store as it was when the iterator was created: later writes,
 * flushes and compactions do not change what it yields. Iterate it with for...of or
 * for await...of; `close()` (or finishing, or breaking out of a loop) releases its tables.
 */
export class KvIterator implements IterableIterator<Entry>, AsyncIterable<Entry> {
  private readonly inner: Generator<KvRecord, void, undefined>;
  private remaining: number;
  private released = false;

  constructor(
    memtables: readonly MemtableSnapshot[],
    private readonly version: Version,
    range: ResolvedRange,
    private readonly guard: () => void,
  ) {
    version.retain();
    this.remaining = range.limit ?? Number.POSITIVE_INFINITY;
    const r: KeyRange = { gt: range.gt, gte: range.gte, lt: range.lt, lte: range.lte, reverse: range.reverse ?? false };
    const sources: Iterator<KvRecord>[] = memtables.map((m) => copies(m.entries(r)));
    // One source per run: a run's tables hold disjoint key ranges, so reading them one after
    // another yields the run in key order, and the merge compares one head per run.
    for (const level of version.levels) {
      for (const run of level)
        sources.push(
          runEntries(
            run.map((h) => h.table),
            r,
          ),
        );
    }
    this.inner = mergeNewest(sources, r.reverse === true);
  }

  next(): IteratorResult<Entry, undefined> {
    if (this.released) return { done: true, value: undefined };
    this.guard();
    while (this.remaining > 0) {
      const step = this.inner.next();
      if (step.done === true) break;
      if (step.value.tombstone) continue;
      this.remaining--;
      return { done: false, value: [step.value.key, step.value.value] };
    }
    this.close();
    return { done: true, value: undefined };
  }

  return(): IteratorResult<Entry, undefined> {
    this.close();
    return { done: true, value: undefined };
  }

  /** Releases the snapshot. Idempotent. */
  close(): void {
    if (this.released) return;
    this.released = true;
    this.inner.return();
    this.version.release();
  }

  [Symbol.iterator](): this {
    return this;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Entry, void, undefined> {
    try {
      for (const e of this) yield e;
    } finally {
      this.close();
    }
  }
}
