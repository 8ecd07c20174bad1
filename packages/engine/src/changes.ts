import type { Wal } from '@kv/wal';

export interface Change {
  seq: number;
  type: 'put' | 'del';
  key: Uint8Array;
  /** Absent for a delete. */
  value?: Uint8Array;
}

/** Smallest WAL index holding a seq above `seq` (seqs grow with indices): binary search. */
export function walIndexAfterSeq(wal: Wal, seq: number): number {
  let lo = wal.firstIndex;
  let hi = wal.lastIndex + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (wal.get(mid).seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Every write with seq > `since`, in order, then new ones live until the store closes.
 * Built on the WAL tail, so it reaches back only as far as the WAL does: RangeError when
 * changes after `since` were already flushed and their WAL segments deleted.
 */
export async function* changesSince(
  wal: Wal,
  since: number,
  flushedSeq: number,
): AsyncGenerator<Change, void, undefined> {
  const start = walIndexAfterSeq(wal, since);
  if (since < flushedSeq && start <= wal.lastIndex && wal.get(start).seq > since + 1) {
    throw new RangeError(
      `changes after seq ${since} are no longer in the WAL (it starts at seq ${wal.get(start).seq}); read the store instead`,
    );
  }
  for await (const { record } of wal.tail(start)) {
    yield record.tombstone
      ? { seq: record.seq, type: 'del', key: record.key }
      : { seq: record.seq, type: 'put', key: record.key, value: record.value };
  }
}
