import { DataSet } from '../data.js';
import { hashString, Rng } from '../rng.js';
import { now, perSecond } from '../stats.js';
import type { Store } from '../stores/types.js';
import { load } from './load.js';
import { ALL_STORES, type Metric, type Workload, type WorkloadContext } from './types.js';

/** Times `reads` synchronous gets of random loaded keys; every one must be found. */
function randomGets(store: Store, data: DataSet, keys: number, reads: number, seed: number) {
  const rng = new Rng(seed);
  const scratch = Buffer.allocUnsafe(data.keyBytes);
  let bytes = 0;
  let missing = 0;
  const start = now();
  for (let n = 0; n < reads; n++) {
    const v = store.get(data.writeKey(rng.below(keys), scratch));
    if (v === undefined) missing++;
    else bytes += v.length;
  }
  const ms = now() - start;
  if (missing > 0) throw new Error(`${missing} of ${reads} loaded keys were not found`);
  if (bytes !== reads * data.valueBytes)
    throw new Error(`gets returned ${bytes} value bytes, expected ${reads * data.valueBytes}`);
  return perSecond(reads, ms);
}

async function getWorkload(ctx: WorkloadContext, id: string, keys: number, settle: boolean): Promise<Metric[]> {
  const data = new DataSet(ctx.config, id);
  const store = await ctx.openStore(false);
  try {
    await load(store, data, keys, ctx.config.scale.batch);
    if (settle) {
      const start = now();
      await store.settle();
      ctx.details.settleMs = now() - start;
    }
    const reads = ctx.config.scale.reads;
    Object.assign(ctx.details, { keys, reads });
    const rate = randomGets(store, data, keys, reads, hashString(`${ctx.config.seed}:${id}:reads`));
    return [{ id, value: rate, unit: 'ops/s', better: 'higher' }];
  } finally {
    await store.close();
  }
}

export const readWorkloads: readonly Workload[] = [
  {
    id: 'get-tables',
    title: 'random get of loaded keys after a flush (kv: data in tables)',
    targets: ALL_STORES,
    needsEngine: true,
    run: (ctx) => getWorkload(ctx, 'get-tables', ctx.config.scale.keys, true),
  },
  {
    id: 'get-memtable',
    title: 'random get of a few loaded keys, no flush (kv: memtable-resident)',
    targets: ALL_STORES,
    needsEngine: true,
    run: (ctx) => getWorkload(ctx, 'get-memtable', ctx.config.scale.memtableKeys, false),
  },
  {
    id: 'scan',
    title: 'full range scan of N keys after a flush, forward then reverse',
    targets: ALL_STORES,
    needsEngine: true,
    async run(ctx) {
      const data = new DataSet(ctx.config, 'scan');
      const { keys, batch } = ctx.config.scale;
      const store = await ctx.openStore(false);
      try {
        await load(store, data, keys, batch);
        await store.settle();
        const metrics: Metric[] = [];
        for (const reverse of [false, true]) {
          const start = now();
          const totals = await store.scan(reverse);
          const ms = now() - start;
          if (totals.entries !== keys || totals.bytes !== keys * data.entryBytes) {
            throw new Error(`scan saw ${totals.entries} entries / ${totals.bytes} bytes, expected ${keys} entries`);
          }
          const id = reverse ? 'scan-reverse' : 'scan-forward';
          metrics.push({
            id,
            value: perSecond(keys, ms),
            unit: 'ops/s',
            better: 'higher',
            bytesPerOp: data.entryBytes,
          });
        }
        ctx.details.keys = keys;
        return metrics;
      } finally {
        await store.close();
      }
    },
  },
];
