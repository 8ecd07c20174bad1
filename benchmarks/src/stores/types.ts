/** The stores compared side by side. */
export const STORE_NAMES = ['kv', 'classic-level', 'lmdb', 'better-sqlite3'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

export interface OpenOptions {
  /** An empty directory owned by this store for the run. */
  dir: string;
  /**
   * true: put() and batch() resolve only after the data reached stable storage (one flush per
   * commit). false: the store's fastest crash-consistent mode that does not flush per commit.
   */
  durable: boolean;
  /**
   * About how many bytes of writes the workload needs kept unflushed (replay: the whole fill
   * stays in the WAL). Stores with a budget for unflushed writes size it from this.
   */
  unflushedBytes?: number;
}

/** What a store's last open replayed from its log, when it can tell. */
export interface ReplayReport {
  logBytes: number;
  entries: number;
}

export interface ScanTotals {
  entries: number;
  bytes: number;
}

/**
 * One store, opened in one mode, behind the operations the workloads need. Each adapter uses
 * its store's fastest honest API for each operation; its file header says which.
 */
export interface Store {
  put(key: Buffer, value: Buffer): Promise<void>;
  /** Writes all pairs in one atomic batch (one commit). */
  batch(keys: readonly Buffer[], values: readonly Buffer[]): Promise<void>;
  /** Synchronous point read. The result may be a view valid only until the next call. */
  get(key: Buffer): Uint8Array | undefined;
  /** Reads every entry in key order (or reverse), touching each key and value. */
  scan(reverse: boolean): Promise<ScanTotals>;
  /** Moves freshly loaded data into the store's on-disk read structures (kv: flush to tables). */
  settle(): Promise<void>;
  /** Starts background maintenance (kv: a compaction); resolves when it has finished. */
  maintain(): Promise<void>;
  /** Memory budgets the store was configured with, in bytes, shown beside its peak RSS. */
  budgets(): Record<string, number>;
  /** What open() replayed from the store's log, if the store reports it. */
  replayed?(): ReplayReport | undefined;
  close(): Promise<void>;
}

export interface StoreDriver {
  readonly name: StoreName;
  /** Why the store cannot run here (e.g. "kv engine not built yet"), or null when it can. */
  unavailable(): Promise<string | null>;
  open(options: OpenOptions): Promise<Store>;
}
