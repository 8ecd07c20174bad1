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
 * The set of live tables, by level, newest run first within a level; every run in level i is
 * newer than every run in level i + 1. A Version is immutable: flushes and compactions make
 * a new one, and readers keep the one they started with.
 */
export class Version {
  constructor(readonly levels: readonly (readonly TableHandle[])[]) {}

  *tables(): IterableIterator<TableHandle> {
    for (const level of this.levels) yield* level;
  }

  retain(): void {
    for (const h of this.tables()) h.refs++;
  }

  release(): void {
    for (const h of this.tables()) {
      if (--h.refs === 0 && h.obsolete) h.table.close();
    }
  }

  ids(): number[][] {
    return this.levels.map((level) => level.map((h) => h.id));
  }

  get tableCount(): number {
    return this.levels.reduce((n, l) => n + l.length, 0);
  }
}
