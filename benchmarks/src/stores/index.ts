import type { StoreDriver, StoreName } from './types.js';

/**
 * Drivers load lazily, so a worker process loads only its own store's native addon (which
 * keeps the others out of its startup time and its RSS).
 */
const LOADERS: Readonly<Record<StoreName, () => Promise<StoreDriver>>> = Object.freeze({
  kv: async () => (await import('./kv.js')).kvDriver,
  'classic-level': async () => (await import('./classic-level.js')).classicLevelDriver,
  lmdb: async () => (await import('./lmdb.js')).lmdbDriver,
  'better-sqlite3': async () => (await import('./better-sqlite3.js')).betterSqlite3Driver,
});

export function loadDriver(name: StoreName): Promise<StoreDriver> {
  return LOADERS[name]();
}

export { STORE_NAMES, type StoreName } from './types.js';
