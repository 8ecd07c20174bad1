/**
 * What each results row means and what kv's figure is held against: the performance bar of
 * DESIGN.md, and the disk limit (measured in the same run) that bounds it.
 */
import type { StoreName } from './stores/types.js';

export type BarPart =
  /** kv >= factor x the best peer (or x the named peer). */
  | { vs: 'best' | StoreName; factor: number }
  /** kv >= fraction x the row's disk limit. */
  | { vs: 'disk'; factor: number }
  /** kv >= an absolute value in the row's unit. */
  | { vs: 'absolute'; min: number };

export interface RowInfo {
  label: string;
  /** The disk row whose figure bounds this one (an ops/s rate or a MB/s bandwidth). */
  disk?: 'disk-sync-append' | 'disk-sync-overwrite' | 'disk-seq-write';
  bar?: readonly BarPart[];
  /** Shown in the bar column when there is no bar. */
  note?: string;
}

export const ROWS: Readonly<Record<string, RowInfo>> = Object.freeze({
  'disk-sync-append': { label: 'disk: fdatasync after 4 KiB append' },
  'disk-sync-overwrite': { label: 'disk: fdatasync after page overwrite' },
  'disk-sync-overwrite-pool': {
    label: 'disk: same, sync on the thread pool',
    note: 'ceiling for a store that keeps the event loop free',
  },
  'disk-seq-write': { label: 'disk: sequential write' },
  'durable-put-1': {
    label: 'durable put, 1 writer',
    disk: 'disk-sync-overwrite',
    bar: [
      { vs: 'best', factor: 1.3 },
      { vs: 'disk', factor: 0.7 },
    ],
  },
  'durable-put-64': {
    label: 'durable put, 64 in flight',
    disk: 'disk-sync-overwrite',
    bar: [{ vs: 'lmdb', factor: 2 }],
  },
  'bulk-load': { label: 'bulk load, batches of 1000', disk: 'disk-seq-write', bar: [{ vs: 'lmdb', factor: 1 }] },
  'get-tables': { label: 'random get, data in tables', bar: [{ vs: 'lmdb', factor: 1 }] },
  'get-memtable': { label: 'random get, memtable-resident', note: 'reported' },
  'scan-forward': { label: 'full scan, forward', bar: [{ vs: 'lmdb', factor: 1 }] },
  'scan-reverse': { label: 'full scan, reverse', bar: [{ vs: 'lmdb', factor: 1 }] },
  'mixed-p50': { label: 'mixed 90/10: p50 latency', note: 'reported' },
  'mixed-p99': { label: 'mixed 90/10: p99 latency', note: 'reported' },
  'mixed-ops': { label: 'mixed 90/10: throughput', note: 'reported' },
  replay: { label: 'replay on open', bar: [{ vs: 'absolute', min: 400 }] },
  rss: { label: 'peak RSS while loading', note: 'vs kv budgets (below)' },
  'wal-append-none': { label: "WAL append, sync 'none'", disk: 'disk-seq-write' },
  'wal-durable-1': {
    label: 'WAL durable append, 1 writer',
    disk: 'disk-sync-overwrite',
    bar: [{ vs: 'disk', factor: 0.7 }],
  },
  'wal-durable-64': { label: 'WAL durable append, 64 in flight', disk: 'disk-sync-overwrite' },
  'wal-replay': { label: 'WAL open + iterate', bar: [{ vs: 'absolute', min: 400 }] },
});

export function rowInfo(id: string): RowInfo {
  return ROWS[id] ?? { label: id };
}
