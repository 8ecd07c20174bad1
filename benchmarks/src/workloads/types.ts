import type { BenchConfig } from '../config.js';
import { STORE_NAMES, type Store, type StoreName } from '../stores/types.js';

/** What a workload runs against: a store, or the raw disk ("disk" pseudo-store). */
export type Target = StoreName | 'disk';

export type Unit = 'ops/s' | 'MB/s' | 'µs' | 'MB';

/** One figure of one run: a row of the results table is one metric id across targets. */
export interface Metric {
  /** Row id, e.g. 'scan-forward'; the same id across targets forms one row. */
  id: string;
  value: number;
  unit: Unit;
  better: 'higher' | 'lower';
  /** Payload bytes per operation, so an ops/s figure can also be set against a bandwidth. */
  bytesPerOp?: number;
}

export interface WorkloadContext {
  target: Target;
  config: BenchConfig;
  /** An empty directory for this run, on the disk under test. */
  dir: string;
  /** Extra figures (latencies, counts, budgets) kept in the JSON output. */
  details: Record<string, number | string>;
  /** When set, time-bounded loops run exactly this many operations instead (the sync check). */
  fixedOps?: number;
  /** Opens the target store in `dir` (store targets only); see OpenOptions. */
  openStore(durable: boolean, unflushedBytes?: number): Promise<Store>;
}

export interface Workload {
  id: string;
  /** One line: what is measured. */
  title: string;
  targets: readonly Target[];
  /** True when the kv side needs @kv/engine (rather than @kv/wal or nothing). */
  needsEngine: boolean;
  run(ctx: WorkloadContext): Promise<Metric[]>;
  /**
   * Optional first phase run in its own process, which exits without closing anything (as a
   * crash would); `run` then measures what the next process finds in the same directory.
   */
  fill?(ctx: WorkloadContext): Promise<void>;
}

/** Every store (not the disk). */
export const ALL_STORES: readonly StoreName[] = STORE_NAMES;
