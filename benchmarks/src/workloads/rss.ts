import { readFileSync } from 'node:fs';
import { DataSet } from '../data.js';
import { now, perSecond } from '../stats.js';
import { load } from './load.js';
import { ALL_STORES, type Workload } from './types.js';

const MB = 1e6;

/** The /proc/self/status fields residentSplit reads, compiled once: it runs after every batch. */
const STATUS_FIELDS = Object.fromEntries(
  ['VmRSS', 'RssAnon', 'RssFile', 'RssShmem'].map((name) => [name, new RegExp(`^${name}:\\s+(\\d+) kB`, 'm')]),
) as Record<'VmRSS' | 'RssAnon' | 'RssFile' | 'RssShmem', RegExp>;

/** What /proc/self/status says of the resident set, in kB (Linux); null elsewhere. */
function residentSplit(): { rss: number; anon: number; file: number } | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  const kb = (name: keyof typeof STATUS_FIELDS) => Number(STATUS_FIELDS[name].exec(text)?.[1] ?? Number.NaN);
  const split = { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
  return Number.isNaN(split.rss + split.anon + split.file) ? null : split;
}

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
    // Where the peak is: anonymous memory (heaps, buffers) or mapped files, sampled as the
    // load runs (the kernel's high-water mark gives only the total): every 50 ms for a store
    // that yields to the event loop, and after every batch and the close for one that
    // blocks it.
    let peak = residentSplit();
    const sample = () => {
      const split = residentSplit();
      if (split !== null && (peak === null || split.rss > peak.rss)) peak = split;
    };
    const sampler = setInterval(sample, 50);
    const start = now();
    try {
      await load(store, data, rssKeys, batch, 0, sample);
    } finally {
      await store.close();
      clearInterval(sampler);
      sample();
    }
    const ms = now() - start;
    const maxRss = (process.resourceUsage().maxRSS * 1024) / MB;
    Object.assign(ctx.details, { keys: rssKeys, startRssMB: before / MB, loadOpsPerSec: perSecond(rssKeys, ms) });
    const split = peak as ReturnType<typeof residentSplit>;
    if (split !== null) {
      Object.assign(ctx.details, {
        sampledPeakAnonMB: (split.anon * 1024) / MB,
        sampledPeakFileMB: (split.file * 1024) / MB,
      });
    }
    for (const [name, bytes] of Object.entries(budgets)) ctx.details[`budget.${name}MB`] = bytes / MB;
    return [{ id: 'rss', value: maxRss, unit: 'MB', better: 'lower' }];
  },
};
