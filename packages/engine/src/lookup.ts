import { compareBytes, type KvRecord } from '@kv/record';
import { hashKey } from '@kv/sstable';
import type { Version } from './version.js';

/**
 * The newest entry for `k` in the tables of `version`, newest run first: its record
 * (`records`), else its value or null for a tombstone; undefined when no table has it. The
 * key is hashed once, and only for a table whose key range holds it.
 */
export function searchTables(
  version: Version,
  k: Uint8Array,
  records: boolean,
): KvRecord | Uint8Array | null | undefined {
  let hash: ReturnType<typeof hashKey> | undefined;
  for (const level of version.levels) {
    for (const h of level) {
      const info = h.table.info;
      if (compareBytes(k, info.minKey) < 0 || compareBytes(k, info.maxKey) > 0) continue;
      hash ??= hashKey(k);
      const found = records ? h.table.get(k, hash) : h.table.getValue(k, hash);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
