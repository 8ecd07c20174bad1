import {
  type RateResult,
  sequentialWrite,
  syncAfterAppend,
  syncAfterOverwrite,
  syncAfterOverwriteOnPool,
} from '../disk.js';
import { mbPerSecond, perSecond } from '../stats.js';
import type { Workload } from './types.js';

type RateMeasure = (dir: string, ms: number, warmupMs: number) => Promise<RateResult>;

/** A workload timing `measure`'s sync rate: ops/s, and the time per sync in the details. */
function syncRate(id: string, title: string, measure: RateMeasure): Workload {
  return {
    id,
    title,
    targets: ['disk'],
    needsEngine: false,
    async run(ctx) {
      const r = await measure(ctx.dir, ctx.config.scale.durationMs, ctx.config.scale.warmupMs);
      ctx.details.syncMicros = (r.ms * 1000) / r.ops;
      return [{ id, value: perSecond(r.ops, r.ms), unit: 'ops/s', better: 'higher' }];
    },
  };
}

export const diskWorkloads: readonly Workload[] = [
  syncRate('disk-sync-append', 'fdatasync/s after a 4 KiB append to a growing file', syncAfterAppend),
  syncRate(
    'disk-sync-overwrite',
    'fdatasync/s after overwriting a 4 KiB page of a preallocated file',
    syncAfterOverwrite,
  ),
  syncRate(
    'disk-sync-overwrite-pool',
    'fdatasync/s after overwriting a preallocated page, the sync on the thread pool (awaited)',
    syncAfterOverwriteOnPool,
  ),
  {
    id: 'disk-seq-write',
    title: 'sequential write bandwidth: 1 MiB writes, then one fdatasync',
    targets: ['disk'],
    needsEngine: false,
    async run(ctx) {
      const r = sequentialWrite(ctx.dir, ctx.config.scale.seqWriteBytes);
      ctx.details.bytes = r.bytes;
      return [{ id: 'disk-seq-write', value: mbPerSecond(r.bytes, r.ms), unit: 'MB/s', better: 'higher' }];
    },
  },
];
