import { diskWorkloads } from './disk.js';
import { mixedWorkload } from './mixed.js';
import { readWorkloads } from './reads.js';
import { replayWorkload } from './replay.js';
import { rssWorkload } from './rss.js';
import type { Workload } from './types.js';
import { walWorkloads } from './wal.js';
import { writeWorkloads } from './writes.js';

/** Every workload, in the order the harness runs and reports them. */
export const WORKLOADS: readonly Workload[] = [
  ...diskWorkloads,
  ...writeWorkloads,
  ...readWorkloads,
  mixedWorkload,
  replayWorkload,
  rssWorkload,
  ...walWorkloads,
];

export function findWorkload(id: string): Workload | undefined {
  return WORKLOADS.find((w) => w.id === id);
}

export type { Metric, Target, Unit, Workload } from './types.js';
