import type { KvStoreStats } from '@kv/engine';
import type { Command } from './command.js';
import { humanBytes, printTable } from './format.js';
import type { Output } from './output.js';
import { progressBar } from './progress.js';

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function tableSummary(st: KvStoreStats): string {
  const entries = st.levels.reduce((n, l) => n + l.entries, 0);
  const bytes = st.levels.reduce((n, l) => n + l.bytes, 0);
  return `${count(st.tables, 'table')} holding ${count(entries, 'entry', 'entries')}, ${humanBytes(bytes)}`;
}

const flush: Command = {
  name: 'flush',
  usage: 'flush',
  summary: 'write the memtable to a table now',
  details: 'Tables also fill by themselves when the memtable reaches its size limit.',
  arity: [0, 0],
  async run(s) {
    const before = s.store.stats().memtable.entries;
    await s.store.flush();
    s.out.print(`OK: flushed ${count(before, 'entry', 'entries')}; now ${tableSummary(s.store.stats())}`);
  },
};

/**
 * How many merges a full compaction will run: the engine's forced plan (see
 * @kv/engine compaction.ts) pushes each level's runs one level down until one run is left on
 * the last level. Counts the memtable as the level-0 run the flush will make.
 */
export function plannedMerges(st: KvStoreStats): number {
  const runs = st.levels.map((l) => l.runs);
  const pendingFlush = st.memtable.entries > 0 ? 1 : 0;
  runs[0] = (runs[0] ?? 0) + pendingFlush + st.immutableMemtables;
  const last = runs.length - 1;
  let merges = 0;
  for (;;) {
    const level = runs.findIndex((r, l) => r > 0 && (l < last || r > 1));
    if (level < 0) return merges;
    const to = Math.min(level + 1, last);
    if (to === level) runs[level] = 1;
    else {
      runs[level] = 0;
      runs[to] = (runs[to] ?? 0) + 1;
    }
    merges++;
  }
}

/** Runs `work` with a progress bar fed by polling `done()` (on a terminal only). */
async function withProgress<T>(out: Output, format: string, total: number, done: () => number, work: Promise<T>) {
  const bar = progressBar(out, format, total);
  if (bar === undefined) return work;
  const timer = setInterval(() => bar.update(Math.min(total, done())), 100);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    bar.update(total);
    bar.stop();
  }
}

const compact: Command = {
  name: 'compact',
  usage: 'compact',
  summary: 'flush, then merge every table into one',
  details: 'Drops overwritten values and deleted keys from the tables. Shows a progress bar on a terminal.',
  arity: [0, 0],
  async run(s) {
    const before = s.store.stats();
    const started = performance.now();
    const work = s.store.compact();
    await withProgress(
      s.out,
      'compacting [{bar}] {value}/{total} merges',
      plannedMerges(before),
      () => s.store.stats().compactions - before.compactions,
      work,
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    s.out.print(
      `OK: compacted in ${seconds} s; now ${tableSummary(s.store.stats())} (was ${count(before.tables, 'table')})`,
    );
  },
};

/** Flattens the stats into dotted names, e.g. level.0.runs and wal.lastIndex. */
export function statRows(st: KvStoreStats): [string, string][] {
  const rows: [string, string | number][] = [
    ['lastSeq', st.lastSeq],
    ['memtable.entries', st.memtable.entries],
    ['memtable.bytes', st.memtable.bytes],
    ['memtable.immutable', st.immutableMemtables],
    ['flushedSeq', st.flushedSeq],
    ['tables', st.tables],
    ['flushes', st.flushes],
    ['compactions', st.compactions],
  ];
  st.levels.forEach((l, i) => {
    rows.push(
      [`level.${i}.runs`, l.runs],
      [`level.${i}.tables`, l.tables],
      [`level.${i}.entries`, l.entries],
      [`level.${i}.bytes`, l.bytes],
    );
  });
  const w = st.wal;
  const truncated = st.recovery.wal.truncated;
  rows.push(
    ['wal.segments', w.segments],
    ['wal.firstIndex', w.firstIndex],
    ['wal.lastIndex', w.lastIndex],
    ['wal.durableIndex', w.durableIndex],
    ['wal.syncs', w.syncs],
    ['recovery.walEntries', st.recovery.wal.entries],
    ['recovery.replayed', st.recovery.replayed],
    ['recovery.skipped', st.recovery.skipped],
    ['recovery.tornTail', st.recovery.wal.tornTail === null ? 'none' : `${st.recovery.wal.tornTail.bytesDiscarded} B`],
    [
      'recovery.truncated',
      truncated === null ? 'no' : `from index ${truncated.firstDroppedIndex}: ${truncated.reason}`,
    ],
    ['recovery.removedTables', st.recovery.removedTables.length],
    ['failed', st.failed ?? 'no'],
  );
  return rows.map(([k, v]) => [k, String(v)]);
}

const stats: Command = {
  name: 'stats',
  usage: 'stats [--json]',
  summary: 'memtable, tables per level, WAL and recovery numbers',
  details: 'Piped, one NAME<tab>VALUE line per number; --json prints the engine stats object.',
  arity: [0, 0],
  flags: { json: 'switch' },
  run(s, a) {
    const st = s.store.stats();
    if (a.flags.has('json')) return s.out.print(JSON.stringify(st));
    if (!s.out.tty) return printTable(s.out, ['stat', 'value'], statRows(st));
    const { c } = s.out;
    const levels = st.levels.map((l, i) => [
      String(i),
      String(l.runs),
      String(l.tables),
      String(l.entries),
      humanBytes(l.bytes),
    ]);
    printTable(s.out, ['level', 'runs', 'tables', 'entries', 'bytes'], levels, { right: [0, 1, 2, 3, 4] });
    const general = statRows(st)
      .filter(([k]) => !k.startsWith('level.'))
      .map(([k, v]) => [k, k.endsWith('.bytes') ? humanBytes(Number(v)) : v]);
    printTable(s.out, ['stat', 'value'], general, { right: [1] });
    if (st.failed !== null) s.out.print(c.red(`the store failed: ${st.failed}; reopen it`));
  },
};

export const maintenanceCommands: readonly Command[] = [flush, compact, stats];
