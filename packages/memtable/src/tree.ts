import { createRequire } from 'node:module';
import { compareKeyStrings } from './key-string.js';

/**
 * sorted-btree is CommonJS with a default export in its typings; `createRequire` loads it
 * the same way under plain Node ESM and under vitest (a default import does not).
 */
type BTreeClass = typeof import('sorted-btree').default;
const BTree = createRequire(import.meta.url)('sorted-btree').default as BTreeClass;

/** Arena ids of records by latin1 key string, in bytewise key order. */
export type RecordTree = import('sorted-btree').default<string, number>;

export function newRecordTree(): RecordTree {
  // A string-only comparator: the library default also handles numbers and mixed types.
  return new BTree<string, number>(undefined, compareKeyStrings);
}
