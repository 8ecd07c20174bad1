import type { KeyRange, KvRecord } from '@kv/record';
import type { RecordArena } from './arena.js';
import { checkKey, keyString } from './key-string.js';
import { scanBounds, scanTree } from './range-scan.js';
import type { RecordTree } from './tree.js';

/**
 * A read-only view of a memtable as it was when `snapshot()` was called: later puts to the
 * memtable are not visible through it. It stays valid for as long as it is referenced.
 */
export interface MemtableSnapshot {
  /** The record stored for `key` at snapshot time, tombstones included; undefined if none. */
  get(key: Uint8Array): KvRecord | undefined;
  /** Records in ascending bytewise key order (descending with `range.reverse`), lazily. */
  entries(range?: KeyRange): IterableIterator<KvRecord>;
  /** Number of records (tombstones included) at snapshot time. */
  readonly count: number;
}

/**
 * A snapshot over a tree nobody writes to any more (a clone of a live memtable's), whose ids
 * point into `arena`, where versions are only ever appended. A get descends the tree, O(log n).
 */
export class TreeSnapshot implements MemtableSnapshot {
  readonly #tree: RecordTree;
  readonly #arena: RecordArena;

  constructor(tree: RecordTree, arena: RecordArena) {
    this.#tree = tree;
    this.#arena = arena;
  }

  get(key: Uint8Array): KvRecord | undefined {
    checkKey(key);
    const id = this.#tree.get(keyString(key));
    return id === undefined ? undefined : this.#arena.record(id);
  }

  entries(range?: KeyRange): IterableIterator<KvRecord> {
    return scanTree(this.#tree, this.#arena, scanBounds(range));
  }

  get count(): number {
    return this.#tree.size;
  }
}
