import { DEFAULT_RECORD_LIMITS, describe, KvError, type RecordLimits } from '@kv/record';
import type { RecoveryMode, SyncMode, WalFs } from '@kv/wal';
import type { TableFs } from '@kv/sstable';
import { type EngineFs, realEngineFs } from './fs.js';
import type { RateLimit } from './rate-limit.js';

export interface KvStoreOptions {
  /** 'always' (default): a write resolves after its WAL entry is fdatasync'd; 'none': after it is in the page cache. */
  sync?: SyncMode;
  /** Memtable size that triggers a flush to a table, in bytes. Default 8 MiB. */
  memtableBytes?: number;
  /** Immutable memtables waiting for flush before writers wait. Default 2. */
  maxImmutableMemtables?: number;
  /** WAL segment size. Default 64 MiB. */
  walSegmentBytes?: number;
  /** Table data block size. Default 4096. */
  blockBytes?: number;
  /** Bloom filter bits per key. Default 10 (~1% false positives). */
  bloomBitsPerKey?: number;
  /** Table block cache budget in bytes (44 bytes a cached block). 0 disables it. Default 8 MiB. */
  blockCacheBytes?: number;
  /**
   * Target size of a compaction output table, in bytes, from 1 KiB to 1 GiB. A compaction
   * writes its run as consecutive tables of about this size (cut between keys, by an estimate
   * of each record's encoded size), so a level can outgrow the 2 GiB a table file is limited
   * to. Flushes write one table whatever its size. Default 256 MiB.
   */
  tableBytes?: number;
  /** A level holding this many runs is merged into one run on the next level. Default 4. */
  runsPerLevel?: number;
  /** Number of levels; the last one merges into itself. Default 6. */
  maxLevels?: number;
  /** Run compactions in the background by themselves. Default true. */
  autoCompact?: boolean;
  /**
   * Merge and write compaction output on a worker thread, so compaction CPU does not take
   * turns with reads and writes on the event loop. Default true. (With a custom `tableFs`,
   * compactions run on the event loop regardless.)
   */
  compactionThread?: boolean;
  /** Token bucket per client for operations through `db.client(id)`. Default: none (unlimited). */
  rateLimit?: RateLimit;
  /** What WAL recovery does with corruption. Default 'strict'. */
  recoveryMode?: RecoveryMode;
  /** Key and value size limits. Default 64 KiB keys, 16 MiB values. */
  limits?: RecordLimits;
  /**
   * Test hook: called at named points of background work ('flush:table-written',
   * 'flush:manifest-written', 'flush:wal-truncated', 'compaction:table-written',
   * 'compaction:manifest-written', 'compaction:inputs-deleted'), so crash tests can kill the
   * process exactly there. Default: none.
   */
  onEventForTesting?: (event: string) => void;
  /** File-system seams, for fault-injection tests. */
  fs?: EngineFs;
  walFs?: WalFs;
  tableFs?: TableFs;
}

export type ResolvedKvStoreOptions = Readonly<
  Required<Omit<KvStoreOptions, 'walFs' | 'tableFs' | 'onEventForTesting' | 'rateLimit'>> &
    Pick<KvStoreOptions, 'walFs' | 'tableFs' | 'onEventForTesting' | 'rateLimit'>
>;

export const DEFAULT_KV_STORE_OPTIONS: ResolvedKvStoreOptions = Object.freeze({
  sync: 'always',
  memtableBytes: 8 * 1024 * 1024,
  maxImmutableMemtables: 2,
  walSegmentBytes: 64 * 1024 * 1024,
  blockBytes: 4096,
  bloomBitsPerKey: 10,
  blockCacheBytes: 8 * 1024 * 1024,
  tableBytes: 256 * 1024 * 1024,
  runsPerLevel: 4,
  maxLevels: 6,
  autoCompact: true,
  compactionThread: true,
  recoveryMode: 'strict',
  limits: DEFAULT_RECORD_LIMITS,
  fs: realEngineFs,
});

function invalid(message: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', message);
}

function integer(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/** Validates options against the defaults; never mutates the caller's object. */
export function resolveKvStoreOptions(options: KvStoreOptions = {}): ResolvedKvStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`KvStore options must be an object, got ${describe(options)}`);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const known = new Set([
    ...Object.keys(DEFAULT_KV_STORE_OPTIONS),
    'walFs',
    'tableFs',
    'onEventForTesting',
    'rateLimit',
  ]);
  for (const k of Object.keys(given)) if (!known.has(k)) throw invalid(`unknown option "${k}"`);
  const o = { ...DEFAULT_KV_STORE_OPTIONS, ...given } as ResolvedKvStoreOptions;
  if (o.sync !== 'always' && o.sync !== 'none') throw invalid(`sync must be 'always' or 'none', got ${String(o.sync)}`);
  integer('memtableBytes', o.memtableBytes, 1024, 1024 * 1024 * 1024);
  integer('maxImmutableMemtables', o.maxImmutableMemtables, 1, 64);
  integer('walSegmentBytes', o.walSegmentBytes, 64 * 1024, 1024 * 1024 * 1024);
  integer('blockBytes', o.blockBytes, 256, 1024 * 1024);
  integer('bloomBitsPerKey', o.bloomBitsPerKey, 1, 64);
  integer('blockCacheBytes', o.blockCacheBytes, 0, 1024 * 1024 * 1024);
  integer('tableBytes', o.tableBytes, 1024, 1024 * 1024 * 1024);
  integer('runsPerLevel', o.runsPerLevel, 2, 64);
  integer('maxLevels', o.maxLevels, 2, 16);
  if (typeof o.autoCompact !== 'boolean') throw new TypeError('autoCompact must be a boolean');
  if (typeof o.compactionThread !== 'boolean') throw new TypeError('compactionThread must be a boolean');
  if (o.recoveryMode !== 'strict' && o.recoveryMode !== 'truncate') {
    throw invalid(`recoveryMode must be 'strict' or 'truncate', got ${String(o.recoveryMode)}`);
  }
  integer('limits.maxKeyBytes', o.limits.maxKeyBytes, 1);
  integer('limits.maxValueBytes', o.limits.maxValueBytes, 0);
  return Object.freeze(o);
}
