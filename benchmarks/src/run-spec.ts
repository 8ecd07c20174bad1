import type { BenchConfig } from './config.js';
import type { Metric, Target } from './workloads/types.js';

/** What the CLI asks one worker process to do. */
export interface RunSpec {
  workload: string;
  target: Target;
  config: BenchConfig;
  /** An empty directory for this run; the CLI creates and removes it. */
  dir: string;
  /** 'fill' runs only the workload's fill phase and exits without closing anything. */
  phase?: 'fill' | 'run';
  /** Run time-bounded loops for exactly this many operations instead (the sync check). */
  fixedOps?: number;
}

/** What one worker reports: metrics, or why there are none. */
export interface RunResult {
  workload: string;
  target: Target;
  metrics: Metric[];
  details: Record<string, number | string>;
  /** Set when the target cannot run the workload here (e.g. "kv engine not built yet"). */
  skipped?: string;
  error?: string;
  wallMs: number;
}
