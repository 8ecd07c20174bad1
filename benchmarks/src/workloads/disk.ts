import { sequentialWrite, syncAfterAppend, syncAfterOverwrite, syncAfterOverwriteOnPool } from '../disk.js';
import { mbPerSecond, perSecond } from '../stats.js';
import type { Workload } from './types.js';

export const diskWorkloads: readonly Workload[] = [
  {
    id: 'disk-sync-append',
    title: 'fdatasync/s after a 4 KiB append to a growing file',
    targets: ['disk'],
    needsEngine: false,
    async run(ctx) {
      const r = syncAfterAppend(ctx.dir, ctx.config.scale.durationMs, ctx.config.scale.warmupMs);
      ctx.details.syncMicros = (r.ms * 1000) / r.ops;
      return [{ id: 'disk-sync-append', value: perSecond(r.ops, r.ms), unit: 'ops/s', better: 'higher' }];
    },
  },
  {
    id: 'disk-sync-overwrite',
    title: 'fdatasync/s after overwriting a 4 KiB page of a preallocated file',
    targets: ['disk'],
    needsEngine: false,
    async run(ctx) {
      const r = syncAfterOverwrite(ctx.dir, ctx.config.scale.durationMs, ctx.config.scale.warmupMs);
      ctx.details.syncMicros = (r.ms * 1000) / r.ops;
      return [{ id: 'disk-sync-overwrite', value: perSecond(r.ops, r.ms), unit: 'ops/s', better: 'higher' }];
    },
  },
  {
    id: 'disk-sync-overwrite-pool',
    title: 'fdatasync/s after overwriting a preallocated page, the sync on the thread pool (awaited)',
    targets: ['disk'],
    needsEngine: false,
    async run(ctx) {
      const r = await syncAfterOverwriteOnPool(ctx.dir, ctx.config.scale.durationMs, ctx.config.scale.warmupMs);
      ctx.details.syncMicros = (r.ms * 1000) / r.ops;
      return [{ id: 'disk-sync-overwrite-pool', value: perSecond(r.ops, r.ms), unit: 'ops/s', better: 'higher' }];
    },
  },
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
