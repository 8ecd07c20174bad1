import { describe, expect, test } from 'vitest';
import { buildRows, renderNotes } from '../src/report.js';
import type { RunResult } from '../src/run-spec.js';
import { parseStraceSummary } from '../src/sync-check.js';

function run(workload: string, target: RunResult['target'], id: string, value: number, extra = {}): RunResult {
  const better = id.endsWith('-p99') ? 'lower' : 'higher';
  const unit = better === 'lower' ? 'µs' : 'ops/s';
  return { workload, target, metrics: [{ id, value, unit, better, ...extra }], details: {}, wallMs: 1 };
}

describe('result rows', () => {
  test('kv is compared with the best peer, and a bar names its own peer', () => {
    const [row] = buildRows([
      run('durable-put-64', 'kv', 'durable-put-64', 300),
      run('durable-put-64', 'lmdb', 'durable-put-64', 100),
      run('durable-put-64', 'classic-level', 'durable-put-64', 200),
    ]);
    expect(row?.bestPeer).toEqual({ store: 'classic-level', value: 200 });
    expect(row?.kvToBest).toBeCloseTo(1.5);
    expect(row?.bar).toEqual({ text: '≥2× lmdb', pass: true });
  });

  test('for latency, lower is better and a ratio above 1 still means kv is ahead', () => {
    const [row] = buildRows([run('mixed', 'kv', 'mixed-p99', 10), run('mixed', 'lmdb', 'mixed-p99', 40)]);
    expect(row?.bestPeer?.store).toBe('lmdb');
    expect(row?.kvToBest).toBeCloseTo(4);
  });

  test('a rate is set against a disk bandwidth through the bytes of each operation', () => {
    const rows = buildRows([
      run('disk-seq-write', 'disk', 'disk-seq-write', 100, { unit: 'MB/s' }),
      run('wal-append-none', 'kv', 'wal-append-none', 500_000, { bytesPerOp: 100 }),
    ]);
    expect(rows.find((r) => r.id === 'wal-append-none')?.kvToDisk).toBeCloseTo(0.5);
  });

  test('a bar that needs a missing figure is neither met nor missed', () => {
    const [row] = buildRows([run('durable-put-1', 'kv', 'durable-put-1', 1000)]);
    expect(row?.bar?.pass).toBeNull();
  });
});

describe('notes', () => {
  test('the sampled peak split of every store that has one, and kv budgets', () => {
    const kv = run('rss', 'kv', 'rss', 300);
    kv.details = { sampledPeakAnonMB: 200, sampledPeakFileMB: 90, 'budget.memtablesMB': 25 };
    const lmdb = run('rss', 'lmdb', 'rss', 5000);
    lmdb.details = { sampledPeakAnonMB: 60, sampledPeakFileMB: 4900 };
    const notes = renderNotes([kv, lmdb, run('rss', 'better-sqlite3', 'rss', 100)]);
    expect(notes).toContain('peak RSS as sampled, anonymous/file-backed MB: kv 200/90.0, lmdb 60.0/4900');
    expect(notes).toContain('kv budgets: memtables 25.0 MB');
  });
});

describe('strace summary', () => {
  test('sums the calls of fsync, fdatasync and msync, with or without an errors column', () => {
    const text = [
      '% time     seconds  usecs/call     calls    errors syscall',
      '------ ----------- ----------- --------- --------- ----------------',
      ' 90.00    0.359429          99      3602           fdatasync',
      ' 10.00    0.001000          10        12         1 fsync',
      '------ ----------- ----------- --------- --------- ----------------',
      '100.00    0.360429                  3614         1 total',
    ].join('\n');
    expect(parseStraceSummary(text)).toBe(3614);
  });
});
