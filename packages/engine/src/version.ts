import { prefix32 } from '@kv/record';
import type { Table } from '@kv/sstable';

/** A table file in use. `refs` counts the versions and open iterators that hold it. */
export interface TableHandle {
  readonly id: number;
  readonly table: Table;
  refs: number;
  /** No longer in the current version: closed when the last holder lets go. */
  obsolete: boolean;
}

/**
 * A sorted run: tables whose key ranges are disjoint and ascending (each table's maxKey below
 * the next one's minKey), so a key is in at most one of them. A flush writes a run of one
 * table; a compaction writes a run of as many tables as its output needs (`tableBytes`).
 */
export type Run = readonly TableHandle[];

/**
 * The set of live tables, by level, newest run first within a level; every run in level i is
 * newer than every run in level i + 1. A Version is immutable: flushes and compactions make
 * a new one, and readers keep the one they started with.
 */
export class Version {
  /**
   * Every run in search order (level by level, newest first), with the first four bytes of
   * each table's minKey and maxKey as big-endian numbers (zero-padded): what a get compares
   * first, settling most probes without reading a key. Same order as `levels`.
   */
  readonly searchRuns: readonly SearchRun[];

  constructor(readonly levels: readonly (readonly Run[])[]) {
    this.searchRuns = levels.flatMap((level) => level.map(searchRun));
  }

  /** Every table: level by level, newest run first, each run in key order. */
  *tables(): IterableIterator<TableHandle> {
    for (const level of this.levels) for (const run of level) yield* run;
  }

  retain(): void {
    for (const h of this.tables()) h.refs++;
  }

  release(): void {
    for (const h of this.tables()) {
      if (--h.refs === 0 && h.obsolete) h.table.close();
    }
  }

  /** The manifest's view: table ids per level (newest run first), and the length of each run. */
  ids(): { levels: number[][]; runs: number[][] } {
    return {
      levels: this.levels.map((level) => level.flatMap((run) => run.map((h) => h.id))),
      runs: this.levels.map((level) => level.map((run) => run.length)),
    };
  }

  get tableCount(): number {
    let n = 0;
    for (const level of this.levels) for (const run of level) n += run.length;
    return n;
  }
}

/** A run as `searchTables` reads it: its tables and their key ranges' 4-byte prefixes. */
export interface SearchRun {
  readonly tables: Run;
  readonly minPrefix: Uint32Array;
  readonly maxPrefix: Uint32Array;
}

function searchRun(run: Run): SearchRun {
  const minPrefix = new Uint32Array(run.length);
  const maxPrefix = new Uint32Array(run.length);
  run.forEach((h, i) => {
    const { minKey, maxKey } = h.table.info;
    minPrefix[i] = prefix32(minKey, 0, minKey.length);
    maxPrefix[i] = prefix32(maxKey, 0, maxKey.length);
  });
  return { tables: run, minPrefix, maxPrefix };
}
