/** Sizes, counts and durations of one benchmark run. Workers receive this object as JSON. */
export interface BenchConfig {
  /** Base seed: keys, values and access order derive from it. Default 42. */
  seed: number;
  /** Key size in bytes (>= 8: four hashed bytes, four unique bytes, then filler). Default 16. */
  keyBytes: number;
  /** Value size in bytes; values are random, hence incompressible. Default 100. */
  valueBytes: number;
  quick: boolean;
  scale: Scale;
}

export interface Scale {
  /** Keys loaded for bulk-load, get-tables, scan and mixed. */
  keys: number;
  /** Entries per batch for every bulk load. */
  batch: number;
  /** Keys for get-memtable: few enough to stay in kv's memtable (and LevelDB's 4 MB write buffer). */
  memtableKeys: number;
  /** Random gets timed by the get workloads. */
  reads: number;
  /** Length of each time-bounded loop (durable puts, mixed, disk sync rates), in ms. */
  durationMs: number;
  /** Untimed warm-up before each time-bounded loop, in ms. */
  warmupMs: number;
  /** Writers in flight for the concurrent durable workloads. */
  concurrency: number;
  /** Keys loaded by the rss workload. */
  rssKeys: number;
  /** Payload bytes written before the engine's replay is timed. */
  replayBytes: number;
  /** Payload bytes appended before wal-replay is timed. */
  walReplayBytes: number;
  /** Records appended by wal-append-none. */
  walAppends: number;
  /** Bytes written by the sequential-bandwidth disk workload. */
  seqWriteBytes: number;
  /** Durable puts counted under strace by the sync check. */
  syncCheckOps: number;
}

const MiB = 1024 * 1024;

export const FULL_SCALE: Readonly<Scale> = Object.freeze({
  keys: 1_000_000,
  batch: 1000,
  memtableKeys: 30_000,
  reads: 1_000_000,
  durationMs: 5000,
  warmupMs: 500,
  concurrency: 64,
  rssKeys: 10_000_000,
  replayBytes: 1024 * MiB,
  walReplayBytes: 1024 * MiB,
  walAppends: 1_000_000,
  seqWriteBytes: 512 * MiB,
  syncCheckOps: 1000,
});

/** Small enough that the whole quick run, every store included, takes about a minute. */
export const QUICK_SCALE: Readonly<Scale> = Object.freeze({
  keys: 100_000,
  batch: 1000,
  memtableKeys: 20_000,
  reads: 50_000,
  durationMs: 1000,
  warmupMs: 100,
  concurrency: 64,
  rssKeys: 50_000,
  replayBytes: 16 * MiB,
  walReplayBytes: 64 * MiB,
  walAppends: 100_000,
  seqWriteBytes: 256 * MiB,
  syncCheckOps: 100,
});

export const DEFAULT_SEED = 42;
export const DEFAULT_KEY_BYTES = 16;
export const DEFAULT_VALUE_BYTES = 100;
