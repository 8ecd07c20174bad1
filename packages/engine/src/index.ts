export type { BatchOperation } from './batch.js';
export { type EngineFs, realEngineFs } from './fs.js';
export { type Entry, type IteratorOptions, KvIterator } from './iterator.js';
export { DEFAULT_KV_STORE_OPTIONS, type KvStoreOptions, type ResolvedKvStoreOptions } from './options.js';
export { KvStore, type KvStoreStats, type StoreRecovery } from './store.js';
