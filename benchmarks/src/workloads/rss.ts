import { DataSet } from '../data.js';
import { now, perSecond } from '../stats.js';
import { load } from './load.js';
import { ALL_STORES, type Workload } from './types.js';

const MB = 1e6;

/**
 * Peak resident set size of the whole process while loading N keys unsynced and closing the
 * store: the kernel's high-water mark (getrusage maxrss), so short spikes count too.
 */
export const rssWorkload: Workload = {
  id: 'rss',
  title: 'peak RSS while loading N keys (unsynced batches of 1000) and closing',
  targets: ALL_STORES,
  needsEngine: true,
  async run(ctx) {
    const data = new DataSet(ctx.config, 'rss');
    const { rssKeys, batch } = ctx.config.scale;
    const before = process.memoryUsage.rss();
    const store = await ctx.openStore(false);
    const budgets = store.budgets();
    const start = now();
    try {
      await load(store, data, rssKeys, batch);
    } finally {
      await store.close();
    }
    const ms = now() - start;
    const peak = (process.resourceUsage().maxRSS * 1024) / MB;
    Object.assign(ctx.details, { keys: rssKeys, startRssMB: before / MB, loadOpsPerSec: perSecond(rssKeys, ms) });
    for (const [name, bytes] of Object.entries(budgets)) ctx.details[`budget.${name}MB`] = bytes / MB;
    return [{ id: 'rss', value: peak, unit: 'MB', better: 'lower' }];
  },
};
