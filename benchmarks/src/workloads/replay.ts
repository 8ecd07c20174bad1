import { DataSet } from '../data.js';
import { mbPerSecond, now } from '../stats.js';
import { load } from './load.js';
import type { Workload, WorkloadContext } from './types.js';

function entries(ctx: WorkloadContext, data: DataSet): number {
  return Math.ceil(ctx.config.scale.replayBytes / data.entryBytes);
}

/**
 * Engine start-up after a crash: a first process loads about `replayBytes` of payload unsynced,
 * asking the store to keep all of it unflushed (so it is all in the WAL), and exits without
 * closing; the next process times open(). The figure is the log bytes the store says it
 * replayed per second of open() (payload bytes when the store does not say).
 */
export const replayWorkload: Workload = {
  id: 'replay',
  title: 'open after a crash, replaying a WAL of N MB of puts',
  targets: ['kv'],
  needsEngine: true,
  async fill(ctx) {
    const data = new DataSet(ctx.config, 'replay');
    const store = await ctx.openStore(false, ctx.config.scale.replayBytes);
    await load(store, data, entries(ctx, data), ctx.config.scale.batch);
  },
  async run(ctx) {
    const data = new DataSet(ctx.config, 'replay');
    const count = entries(ctx, data);
    const start = now();
    const store = await ctx.openStore(false, ctx.config.scale.replayBytes);
    const ms = now() - start;
    const report = store.replayed?.();
    try {
      if (store.get(data.key(count - 1)) === undefined) {
        throw new Error('the last key written before the crash is missing');
      }
    } finally {
      await store.close();
    }
    const bytes = report?.logBytes ?? count * data.entryBytes;
    Object.assign(ctx.details, { entries: count, openMs: ms, logBytes: bytes, replayedEntries: report?.entries ?? -1 });
    return [{ id: 'replay', value: mbPerSecond(bytes, ms), unit: 'MB/s', better: 'higher' }];
  },
};
