import { MEMTABLE_ENTRY_OVERHEAD_BYTES, type Memtable } from '@kv/memtable';
import { isKvError, KvError, RECORD_HEADER_BYTES, type RecordLimits } from '@kv/record';
import type { EncodedRun, Wal } from '@kv/wal';
import { walIndexAfterSeq } from './changes.js';

/** What replay fills: the store's active memtable, rotated as it fills, and its last seq. */
export interface ReplayTarget {
  readonly active: Memtable;
  lastSeq: number;
  /** Freezes the active memtable and starts a new one, without scheduling its flush. */
  rotate(flush: false): void;
}

/**
 * Applies the WAL entries newer than `flushedSeq` to `into`'s memtables, rotating as they
 * fill; returns how many it replayed and how many it skipped (already in tables).
 *
 * Entries are read as runs of encoded records and stored without a copy: a memtable keeps
 * views of the log's mapped segments (which are never rewritten, and stay mapped while
 * referenced, even once flushed and deleted), so a 1 GB log costs no second GB of heap.
 * Seqs grow with WAL indices, so the entries already in tables are a prefix of the log.
 */
export function replayWal(
  wal: Wal,
  flushedSeq: number,
  limits: RecordLimits,
  into: ReplayTarget,
): { replayed: number; skipped: number } {
  const start = walIndexAfterSeq(wal, flushedSeq);
  let remaining = wal.lastIndex + 1 - start;
  let replayed = 0;
  let sized = false;
  for (const run of wal.encodedRuns(start)) {
    let i = 0;
    while (i < run.count) {
      if (!sized) {
        into.active.reserve(recordsToFill(into.active.thresholdBytes, run, remaining));
        sized = true;
      }
      let next: number;
      try {
        next = into.active.putEncoded(run.bytes, run.spans, i, run.count, { adopt: run.stable, limits });
      } catch (err) {
        if (!isKvError(err)) throw err;
        throw new KvError(
          err.code,
          `replaying the WAL run of entries ${run.firstIndex}-${run.firstIndex + run.count - 1} (its record i is entry ${run.firstIndex} + i): ${err.message}`,
          { cause: err },
        );
      }
      replayed += next - i;
      remaining -= next - i;
      i = next;
      if (into.active.maxSeq > into.lastSeq) into.lastSeq = into.active.maxSeq;
      if (into.active.isFull) {
        into.rotate(false);
        sized = false;
      }
    }
  }
  return { replayed, skipped: start - wal.firstIndex };
}

/**
 * About how many records of a replay go into one memtable before it is full: those left,
 * or as many of this run's average size as the threshold holds. A guess only sizes the
 * memtable ahead; it changes nothing else.
 */
function recordsToFill(thresholdBytes: number, run: EncodedRun, remaining: number): number {
  const spans = run.spans;
  const dataBytes = (spans[2 * run.count - 1] as number) - (spans[0] as number) - RECORD_HEADER_BYTES * run.count;
  const perRecord = Math.max(1, dataBytes / run.count) + MEMTABLE_ENTRY_OVERHEAD_BYTES;
  return Math.min(remaining, Math.ceil(thresholdBytes / perRecord) + 1);
}
