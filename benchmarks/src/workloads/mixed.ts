import { setImmediate as nextTurn } from 'node:timers/promises';
import { DataSet } from '../data.js';
import { hashString, Rng } from '../rng.js';
import { Latencies, now, perSecond } from '../stats.js';
import { load } from './load.js';
import { ALL_STORES, type Workload } from './types.js';

const READ_SHARE = 0.9;

/**
 * One client doing 90% random gets and 10% unsynced overwrites of loaded keys, while the
 * store's background maintenance (kv: a compaction started at the same moment) runs. Like a
 * server handling one request per event-loop turn, the client yields between operations, so
 * background work gets its turns; the yield is not part of the measured latency.
 */
export const mixedWorkload: Workload = {
  id: 'mixed',
  title: '90% get / 10% unsynced overwrite, one client, compaction running: latency',
  targets: ALL_STORES,
  needsEngine: true,
  async run(ctx) {
    const data = new DataSet(ctx.config, 'mixed');
    const { keys, batch, durationMs, warmupMs } = ctx.config.scale;
    const store = await ctx.openStore(false);
    try {
      await load(store, data, keys, batch);
      await store.settle();
      const rng = new Rng(hashString(`${ctx.config.seed}:mixed:ops`));
      const scratch = Buffer.allocUnsafe(data.keyBytes);
      const all = new Latencies();
      const writes = new Latencies();
      let version = keys;
      const op = async (record: boolean): Promise<void> => {
        const k = rng.below(keys);
        const t0 = now();
        if (rng.nextFloat() < READ_SHARE) {
          if (store.get(data.writeKey(k, scratch)) === undefined) throw new Error(`loaded key ${k} not found`);
          if (record) all.record((now() - t0) * 1000);
        } else {
          await store.put(data.key(k), data.value(version++));
          if (!record) return;
          const micros = (now() - t0) * 1000;
          all.record(micros);
          writes.record(micros);
        }
      };
      const maintenance = store.maintain();
      const warmEnd = now() + warmupMs;
      while (now() < warmEnd) {
        await op(false);
        await nextTurn();
      }
      const start = now();
      const end = start + durationMs;
      while (now() < end) {
        await op(true);
        await nextTurn();
      }
      const ms = now() - start;
      await maintenance;
      Object.assign(ctx.details, { ops: all.count, writeP99Micros: writes.percentile(99), keys });
      return [
        { id: 'mixed-p50', value: all.percentile(50), unit: 'µs', better: 'lower' },
        { id: 'mixed-p99', value: all.percentile(99), unit: 'µs', better: 'lower' },
        { id: 'mixed-ops', value: perSecond(all.count, ms), unit: 'ops/s', better: 'higher' },
      ];
    } finally {
      await store.close();
    }
  },
};
