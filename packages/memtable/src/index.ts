export { entryBytes, MEMTABLE_ENTRY_OVERHEAD_BYTES, Memtable } from './memtable.js';
export { DEFAULT_MEMTABLE_OPTIONS, type MemtableOptions, type ResolvedMemtableOptions } from './options.js';
export type { MemtableSnapshot } from './snapshot.js';
