/**
 * Workloads of kv's write-ahead log alone (@kv/wal), measurable before the engine exists.
 * @kv/wal is imported only when one of them runs, so other workers do not load it.
 */
import type { KvRecord } from '@kv/record';
import type { Wal } from '@kv/wal';
import { DataSet } from '../data.js';
import { Latencies, mbPerSecond, now, perSecond, runLoops } from '../stats.js';
import type { Metric, Workload, WorkloadContext } from './types.js';

interface WalKit {
  Wal: typeof Wal;
  record(i: number): KvRecord;
}

async function walKit(data: DataSet): Promise<WalKit> {
  const [{ KvRecord }, { Wal }] = await Promise.all([import('@kv/record'), import('@kv/wal')]);
  return { Wal, record: (i) => new KvRecord({ key: data.key(i), value: data.value(i) }) };
}

/** Appends records [first, first + count) with appendBatch, `batch` per call. */
async function appendBatches(wal: Wal, kit: WalKit, first: number, count: number, batch: number): Promise<void> {
  const end = first + count;
  for (let start = first; start < end; start += batch) {
    const n = Math.min(batch, end - start);
    const recs = new Array<KvRecord>(n);
    for (let j = 0; j < n; j++) recs[j] = kit.record(start + j);
    await wal.appendBatch(recs);
  }
}

async function durableAppends(ctx: WorkloadContext, id: string, concurrency: number): Promise<Metric[]> {
  const data = new DataSet(ctx.config, id);
  const kit = await walKit(data);
  const wal = await kit.Wal.open(ctx.dir, { sync: 'always' });
  try {
    const append = (i: number) => wal.append(kit.record(i));
    const { durationMs, warmupMs } = ctx.config.scale;
    const warm = ctx.fixedOps === undefined ? await runLoops(append, { ms: warmupMs, concurrency }) : { ops: 0 };
    const syncsBefore = wal.stats().syncs;
    const lat = new Latencies();
    const r = await runLoops(append, {
      ms: durationMs,
      concurrency,
      first: warm.ops,
      latencies: lat,
      ...(ctx.fixedOps === undefined ? {} : { fixedOps: ctx.fixedOps }),
    });
    const syncs = wal.stats().syncs - syncsBefore;
    Object.assign(ctx.details, {
      ops: r.ops,
      walSyncsPerOp: r.ops > 0 ? syncs / r.ops : 0,
      p50Micros: lat.percentile(50),
      p99Micros: lat.percentile(99),
    });
    return [{ id, value: perSecond(r.ops, r.ms), unit: 'ops/s', better: 'higher', bytesPerOp: data.entryBytes }];
  } finally {
    await wal.close();
  }
}

export const walWorkloads: readonly Workload[] = [
  {
    id: 'wal-append-none',
    title: "WAL appends, sync 'none', appendBatch of 1000 (records built in the loop)",
    targets: ['kv'],
    needsEngine: false,
    async run(ctx) {
      const data = new DataSet(ctx.config, 'wal-append-none');
      const { walAppends, batch } = ctx.config.scale;
      const kit = await walKit(data);
      const wal = await kit.Wal.open(ctx.dir, { sync: 'none' });
      try {
        const start = now();
        await appendBatches(wal, kit, 0, walAppends, batch);
        const ms = now() - start;
        Object.assign(ctx.details, { appends: walAppends, segments: wal.stats().segments });
        return [
          {
            id: 'wal-append-none',
            value: perSecond(walAppends, ms),
            unit: 'ops/s',
            better: 'higher',
            bytesPerOp: data.entryBytes,
          },
        ];
      } finally {
        await wal.close();
      }
    },
  },
  {
    id: 'wal-durable-1',
    title: "WAL append, sync 'always', one appender awaiting each (time-bounded)",
    targets: ['kv'],
    needsEngine: false,
    run: (ctx) => durableAppends(ctx, 'wal-durable-1', 1),
  },
  {
    id: 'wal-durable-64',
    title: "WAL append, sync 'always', 64 appends in flight (group commit, time-bounded)",
    targets: ['kv'],
    needsEngine: false,
    run: (ctx) => durableAppends(ctx, 'wal-durable-64', ctx.config.scale.concurrency),
  },
  {
    id: 'wal-replay',
    title: 'open a WAL of N MB (recovery verifies every frame) and iterate every entry',
    targets: ['kv'],
    needsEngine: false,
    async run(ctx) {
      const data = new DataSet(ctx.config, 'wal-replay');
      const count = Math.ceil(ctx.config.scale.walReplayBytes / data.entryBytes);
      const kit = await walKit(data);
      const writer = await kit.Wal.open(ctx.dir, { sync: 'none' });
      await appendBatches(writer, kit, 0, count, ctx.config.scale.batch);
      await writer.close();

      const start = now();
      const wal = await kit.Wal.open(ctx.dir, { sync: 'none' });
      try {
        const opened = now();
        let entries = 0;
        let bytes = 0;
        for (const { record: rec } of wal.entries()) {
          entries++;
          bytes += rec.key.length + rec.value.length;
        }
        const ms = now() - start;
        if (entries !== count || bytes !== count * data.entryBytes) {
          throw new Error(`replay saw ${entries} entries / ${bytes} payload bytes, expected ${count} entries`);
        }
        const recovery = wal.stats().recovery;
        Object.assign(ctx.details, {
          entries,
          walBytes: recovery.bytes,
          openMs: opened - start,
          iterateMs: ms - (opened - start),
          openMBps: mbPerSecond(recovery.bytes, opened - start),
        });
        return [{ id: 'wal-replay', value: mbPerSecond(recovery.bytes, ms), unit: 'MB/s', better: 'higher' }];
      } finally {
        await wal.close();
      }
    },
  },
];
