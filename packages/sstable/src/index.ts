/*
 * @kv/sstable: immutable sorted table files with bloom filters. File format: ../FORMAT.md.
 */
export {
  BlockCache,
  type BlockCacheOptions,
  type BlockCacheStats,
  DEFAULT_BLOCK_CACHE_OPTIONS,
} from './block-cache.js';
export { hashKey, type KeyHash } from './filter.js';
export { TABLE_FORMAT_VERSION } from './format.js';
export { nodeTableFs, type TableFile, type TableFs } from './fs.js';
export { type ScanOptions, Table, type TableOpenOptions } from './reader.js';
export type { TableInfo } from './table-builder.js';
export { DEFAULT_TABLE_WRITE_OPTIONS, type TableWriteOptions, writeTable } from './writer.js';
