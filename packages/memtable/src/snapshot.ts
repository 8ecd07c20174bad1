import type { KeyRange, KvRecord } from '@kv/record';
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
 * A snapshot over a tree nobody writes to any more. `index`, when given, is a map with the
 * same contents that is never written either (a frozen memtable's), for O(1) gets; without
 * it a get descends the tree, O(log n).
 */
export class TreeSnapshot implements MemtableSnapshot {
  readonly #tree: RecordTree;
  readonly #index: ReadonlyMap<string, KvRecord> | undefined;

  constructor(tree: RecordTree, index: ReadonlyMap<string, KvRecord> | undefined) {
    this.#tree = tree;
    this.#index = index;
  }

  get(key: Uint8Array): KvRecord | undefined {
    checkKey(key);
    const k = keyString(key);
    return this.#index === undefined ? this.#tree.get(k) : this.#index.get(k);
  }

  entries(range?: KeyRange): IterableIterator<KvRecord> {
    return scanTree(this.#tree, scanBounds(range));
  }

  get count(): number {
    return this.#tree.size;
  }
}
