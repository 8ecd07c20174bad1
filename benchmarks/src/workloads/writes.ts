import { DataSet } from '../data.js';
import { Latencies, now, perSecond, runLoops } from '../stats.js';
import { load } from './load.js';
import { ALL_STORES, type Workload, type WorkloadContext } from './types.js';

/** Durable puts of new keys, `concurrency` writers each awaiting its own put, for a fixed time. */
async function durablePuts(ctx: WorkloadContext, id: string, concurrency: number) {
  const data = new DataSet(ctx.config, id);
  const store = await ctx.openStore(true);
  try {
    const put = (i: number) => store.put(data.key(i), data.value(i));
    const { durationMs, warmupMs } = ctx.config.scale;
    const warm = ctx.fixedOps === undefined ? await runLoops(put, { ms: warmupMs, concurrency }) : { ops: 0 };
    const lat = new Latencies();
    const r = await runLoops(put, {
      ms: durationMs,
      concurrency,
      first: warm.ops,
      latencies: lat,
      ...(ctx.fixedOps === undefined ? {} : { fixedOps: ctx.fixedOps }),
    });
    Object.assign(ctx.details, { ops: r.ops, p50Micros: lat.percentile(50), p99Micros: lat.percentile(99) });
    return [
      {
        id,
        value: perSecond(r.ops, r.ms),
        unit: 'ops/s' as const,
        better: 'higher' as const,
        bytesPerOp: data.entryBytes,
      },
    ];
  } finally {
    await store.close();
  }
}

export const writeWorkloads: readonly Workload[] = [
  {
    id: 'durable-put-1',
    title: 'durable put of a new key, one writer awaiting each (time-bounded)',
    targets: ALL_STORES,
    needsEngine: true,
    run: (ctx) => durablePuts(ctx, 'durable-put-1', 1),
  },
  {
    id: 'durable-put-64',
    title: 'durable put of new keys, 64 writers in flight (time-bounded)',
    targets: ALL_STORES,
    needsEngine: true,
    run: (ctx) => durablePuts(ctx, 'durable-put-64', ctx.config.scale.concurrency),
  },
  {
    id: 'bulk-load',
    title: 'unsynced bulk load of N keys in random order, batches of 1000',
    targets: ALL_STORES,
    needsEngine: true,
    async run(ctx) {
      const data = new DataSet(ctx.config, 'bulk-load');
      const { keys, batch } = ctx.config.scale;
      const store = await ctx.openStore(false);
      try {
        const start = now();
        await load(store, data, keys, batch);
        const ms = now() - start;
        ctx.details.keys = keys;
        return [
          {
            id: 'bulk-load',
            value: perSecond(keys, ms),
            unit: 'ops/s',
            better: 'higher',
            bytesPerOp: data.entryBytes,
          },
        ];
      } finally {
        await store.close();
      }
    },
  },
];
