/** Turns run results into rows (kv against the best peer, the disk and its bar) and prints them. */
import Table from 'cli-table3';
import pc from 'picocolors';
import { compact, formatPercent, formatRatio, formatValue } from './format.js';
import type { RunResult } from './run-spec.js';
import { type BarPart, rowInfo } from './rows.js';
import type { StoreName } from './stores/types.js';
import type { Metric, Target, Unit } from './workloads/types.js';

const PEERS: readonly StoreName[] = ['classic-level', 'lmdb', 'better-sqlite3'];

export interface BarCheck {
  text: string;
  /** true: met; false: missed; null: not measurable in this run. */
  pass: boolean | null;
}

export interface Row {
  id: string;
  label: string;
  unit: Unit;
  better: 'higher' | 'lower';
  values: Partial<Record<Target, number>>;
  bestPeer: { store: StoreName; value: number } | null;
  /** kv relative to the best peer, > 1 meaning kv is better (for latency and RSS too). */
  kvToBest: number | null;
  /** kv as a fraction of the disk limit named by the row, in the row's terms. */
  kvToDisk: number | null;
  bar: BarCheck | null;
}

/** How much better `a` is than `b`: > 1 when better, whichever direction "better" is. */
function advantage(a: number, b: number, better: 'higher' | 'lower'): number {
  return better === 'higher' ? a / b : b / a;
}

function metricsById(results: readonly RunResult[]): Map<string, Map<Target, Metric>> {
  const byId = new Map<string, Map<Target, Metric>>();
  for (const r of results) {
    for (const m of r.metrics) {
      const row = byId.get(m.id) ?? new Map<Target, Metric>();
      row.set(r.target, m);
      byId.set(m.id, row);
    }
  }
  return byId;
}

/** kv's figure divided by the disk limit: rates against rates, or bytes per second against bandwidth. */
function toDisk(kv: Metric, disk: Metric | undefined): number | null {
  if (disk === undefined || disk.value <= 0) return null;
  if (kv.unit === disk.unit) return kv.value / disk.value;
  if (kv.unit === 'ops/s' && disk.unit === 'MB/s' && kv.bytesPerOp !== undefined) {
    return (kv.value * kv.bytesPerOp) / 1e6 / disk.value;
  }
  return null;
}

function checkPart(part: BarPart, row: Row, kv: number | undefined): BarCheck {
  switch (part.vs) {
    case 'absolute':
      return { text: `≥${part.min} ${row.unit}`, pass: kv === undefined ? null : kv >= part.min };
    case 'disk':
      return {
        text: `≥${formatPercent(part.factor)} disk`,
        pass: row.kvToDisk === null ? null : row.kvToDisk >= part.factor,
      };
    case 'best':
      return { text: `≥${part.factor}× best`, pass: row.kvToBest === null ? null : row.kvToBest >= part.factor };
    default: {
      const peer = row.values[part.vs];
      const pass = kv === undefined || peer === undefined ? null : advantage(kv, peer, row.better) >= part.factor;
      return { text: `≥${part.factor}× ${part.vs}`, pass };
    }
  }
}

export function buildRows(results: readonly RunResult[]): Row[] {
  const byId = metricsById(results);
  const rows: Row[] = [];
  for (const [id, metrics] of byId) {
    const info = rowInfo(id);
    const first = metrics.values().next().value as Metric;
    const values: Partial<Record<Target, number>> = {};
    for (const [target, m] of metrics) values[target] = m.value;
    let bestPeer: Row['bestPeer'] = null;
    for (const store of PEERS) {
      const v = values[store];
      if (v !== undefined && (bestPeer === null || advantage(v, bestPeer.value, first.better) > 1)) {
        bestPeer = { store, value: v };
      }
    }
    const kvMetric = metrics.get('kv');
    const diskMetric = info.disk === undefined ? undefined : byId.get(info.disk)?.get('disk');
    const row: Row = {
      id,
      label: info.label,
      unit: first.unit,
      better: first.better,
      values,
      bestPeer,
      kvToBest:
        kvMetric === undefined || bestPeer === null ? null : advantage(kvMetric.value, bestPeer.value, first.better),
      kvToDisk: kvMetric === undefined ? null : toDisk(kvMetric, diskMetric),
      bar: null,
    };
    if (info.bar !== undefined) {
      const parts = info.bar.map((p) => checkPart(p, row, kvMetric?.value));
      const pass = parts.some((p) => p.pass === false) ? false : parts.every((p) => p.pass === true) ? true : null;
      row.bar = { text: parts.map((p) => p.text).join(', '), pass };
    } else if (info.note !== undefined) {
      row.bar = { text: info.note, pass: null };
    }
    rows.push(row);
  }
  return rows;
}

function ratioCell(r: number | null, threshold = 1): string {
  if (r === null) return '';
  return r >= threshold ? pc.green(formatRatio(r)) : pc.red(formatRatio(r));
}

function barCell(bar: BarCheck | null): string {
  if (bar === null) return '';
  if (bar.pass === true) return pc.green(`✓ ${bar.text}`);
  if (bar.pass === false) return pc.red(`✗ ${bar.text}`);
  return pc.dim(bar.text);
}

/** The results table: one row per metric, one column per target, then kv's standing. */
export function renderTable(rows: readonly Row[], targets: readonly Target[]): string {
  const stores = targets.filter((t) => t !== 'disk');
  const hasDisk = targets.includes('disk');
  const head = [
    'workload',
    'unit',
    ...stores,
    ...(hasDisk ? ['disk'] : []),
    'kv/best peer',
    'kv/disk',
    'bar (DESIGN.md)',
  ];
  const table = new Table({ head: head.map((h) => pc.bold(h)), style: { head: [], border: [] } });
  for (const row of rows) {
    const storeRow = stores.some((s) => row.values[s] !== undefined);
    const cells = stores.map((s) => {
      const v = row.values[s];
      if (v === undefined) return storeRow ? pc.dim('—') : '';
      const text = formatValue(v, row.unit);
      return row.bestPeer?.store === s ? pc.bold(text) : text;
    });
    const disk = row.values.disk;
    table.push([
      row.label,
      row.unit,
      ...cells,
      ...(hasDisk ? [disk === undefined ? '' : formatValue(disk, row.unit)] : []),
      ratioCell(row.kvToBest),
      row.kvToDisk === null ? '' : formatPercent(row.kvToDisk),
      barCell(row.bar),
    ]);
  }
  return table.toString();
}

/** Lines under the table: skipped and failed runs, kv's memory budgets. */
export function renderNotes(results: readonly RunResult[]): string[] {
  const notes: string[] = [];
  const skipped = new Map<string, string[]>();
  for (const r of results) {
    if (r.skipped !== undefined)
      skipped.set(`${r.target}: ${r.skipped}`, [...(skipped.get(`${r.target}: ${r.skipped}`) ?? []), r.workload]);
    if (r.error !== undefined) notes.push(pc.red(`error in ${r.workload} × ${r.target}: ${r.error.split('\n')[0]}`));
  }
  for (const [why, workloads] of skipped) notes.push(pc.yellow(`${why} (skipped ${workloads.join(', ')})`));
  const splits = results.filter((r) => r.workload === 'rss' && r.details.sampledPeakAnonMB !== undefined);
  if (splits.length > 0) {
    const each = splits.map(
      (r) =>
        `${r.target} ${compact(Number(r.details.sampledPeakAnonMB))}/${compact(Number(r.details.sampledPeakFileMB))}`,
    );
    notes.push(`peak RSS as sampled, anonymous/file-backed MB: ${each.join(', ')}`);
  }
  const rss = results.find((r) => r.workload === 'rss' && r.target === 'kv');
  if (rss !== undefined) {
    const budgets = Object.entries(rss.details).filter(([k]) => k.startsWith('budget.'));
    if (budgets.length > 0)
      notes.push(`kv budgets: ${budgets.map(([k, v]) => `${k.slice(7, -2)} ${compact(Number(v))} MB`).join(', ')}`);
  }
  return notes;
}

/** The same table as Markdown (no colours), for pasting into README.md. */
export function renderMarkdown(rows: readonly Row[], targets: readonly Target[]): string {
  const head = ['workload', 'unit', ...targets, 'kv/best peer', 'kv/disk', 'bar'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const row of rows) {
    const cells = targets.map((t) => {
      const v = row.values[t];
      if (v === undefined) return '';
      return row.bestPeer?.store === t ? `**${formatValue(v, row.unit)}**` : formatValue(v, row.unit);
    });
    const bar =
      row.bar === null ? '' : `${row.bar.pass === true ? '✓ ' : row.bar.pass === false ? '✗ ' : ''}${row.bar.text}`;
    lines.push(
      `| ${[
        row.label,
        row.unit,
        ...cells,
        row.kvToBest === null ? '' : formatRatio(row.kvToBest),
        row.kvToDisk === null ? '' : formatPercent(row.kvToDisk),
        bar,
      ].join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
