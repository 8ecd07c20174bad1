import * as path from 'node:path';
import type { KvRecord } from '@kv/record';
import { nodeTableFs, Table, type TableFs, type TableInfo, writeTable } from '@kv/sstable';
import { tableFileName } from './manifest.js';
import { mergeNewest, runEntries } from './merge.js';

/** What a compaction merges and where it writes: plain data, so it can cross into a worker thread. */
export interface CompactionJob {
  /** Input table files by run, newest run first; a run's files in key order. */
  inputs: readonly (readonly string[])[];
  /**
   * The output tables' directory and ids: `maxOutputs` ids from `firstOutputId` are reserved
   * for this job, and its tables take them in key order, as many as it needs (writeRun).
   */
  outputDir: string;
  firstOutputId: number;
  maxOutputs: number;
  /** No older data exists below the output level: tombstones are dropped. */
  dropTombstones: boolean;
  blockBytes: number;
  bloomBitsPerKey: number;
  /** See OutputPlan. */
  tableBytes: number;
  maxKeysPerTable: number;
}

/**
 * How a compaction's output is cut into tables. A table is closed before the record that
 * would take its estimated size (`recordBytes` summed) past `tableBytes`, or once it holds
 * `maxKeysPerTable` records; a record larger than `tableBytes` gets a table of its own.
 * `maxTables` is a proven upper bound on the number of tables this makes (see planOutputs).
 */
export interface OutputPlan {
  tableBytes: number;
  /** Each output table's filter is sized for this many keys (writeTable's maxKeys). */
  maxKeysPerTable: number;
  maxTables: number;
}

/**
 * The smallest size one record takes in a table file besides its key and value (sstable
 * FORMAT.md: key length, meta, value length, seq and timestamp of at least one byte each, and
 * a 12-byte slot). So an input table holds at most `fileBytes` of records costed at key +
 * value + this.
 */
const MIN_RECORD_OVERHEAD = 17;

/**
 * The estimate of one record's share of a table: its key and value plus a typical overhead
 * (the minimum above, multi-byte seq and timestamp varints, block trailers, index entries and
 * filter bits). Close to what a table of 100-byte values really spends.
 */
const RECORD_OVERHEAD = 32;

export function recordBytes(rec: KvRecord): number {
  return rec.key.length + rec.value.length + RECORD_OVERHEAD;
}

/**
 * Plans the output of merging tables with `inputs` (their entry counts and file sizes) into
 * tables of about `tableBytes`.
 *
 * Filter bound: each output table gets a bound proportional to its share of the input, twice
 * the input's average keys per `tableBytes`, capped by the input's total count (always a
 * correct bound). A table of small records reaching that bound is cut early rather than
 * overflow it; sizing each table's filter for the whole input instead would make filters of
 * a large level outweigh the data.
 *
 * Table bound: every output record is an input record, and an input record costs at least
 * key + value + MIN_RECORD_OVERHEAD bytes of its file, so the output's estimated size is at
 * most E = Σ fileBytes + (RECORD_OVERHEAD − MIN_RECORD_OVERHEAD) · Σ count. A table cut by
 * size plus the record that did not fit exceed `tableBytes`, and each record is counted at
 * most twice that way: fewer than 2E / tableBytes such tables. Tables cut by count hold
 * `maxKeysPerTable` records each. One last table holds the rest.
 */
export function planOutputs(inputs: readonly { count: number; fileBytes: number }[], tableBytes: number): OutputPlan {
  let keys = 0;
  let bytes = 0;
  for (const t of inputs) {
    keys += t.count;
    bytes += t.fileBytes;
  }
  const proportional = Math.ceil((2 * tableBytes * keys) / Math.max(1, bytes));
  const maxKeysPerTable = Math.max(1, Math.min(keys, proportional));
  const estimate = bytes + (RECORD_OVERHEAD - MIN_RECORD_OVERHEAD) * keys;
  const maxTables = Math.floor((2 * estimate) / tableBytes) + Math.floor(keys / maxKeysPerTable) + 1;
  return { tableBytes, maxKeysPerTable, maxTables };
}

/**
 * The newest version of every key across `runs` (newest run first; each table read once,
 * front to back, its pages dropped behind the scan), without tombstones when `dropTombstones`.
 */
export function mergedEntries(runs: readonly (readonly Table[])[], dropTombstones: boolean): Iterable<KvRecord> {
  const merged = mergeNewest(
    runs.map((run) => runEntries(run, {}, { dropBehind: true, views: true })),
    false,
  );
  if (!dropTombstones) return merged;
  return {
    *[Symbol.iterator]() {
      for (const r of merged) if (!r.tombstone) yield r;
    },
  };
}

/**
 * An upper bound on the entries a merge of `tables` yields: each input's count, tombstones
 * included (the merge drops shadowed versions and maybe tombstones, never adds).
 */
export function inputKeys(tables: readonly Table[]): number {
  let n = 0;
  for (const t of tables) n += t.info.count;
  return n;
}

export interface RunWriteOptions {
  tableBytes: number;
  maxKeysPerTable: number;
  /** The inputs' total entry count: the last output's filter bound (it takes whatever is left). */
  totalKeys: number;
  blockBytes: number;
  bloomBitsPerKey: number;
  fs?: TableFs | undefined;
}

/**
 * Writes `records` (ascending, one version per key) as consecutive tables at `output(0)`,
 * `output(1)`, ..., cut as OutputPlan says; table `maxOutputs - 1` takes every record left, so nothing
 * is dropped even if the plan's bound were wrong. Each table is durable (temp, fsync, rename,
 * fsync of the directory) before the next is started. Returns the infos of the tables
 * written, in key order: none for no records. On error, removes the tables it wrote (a crash
 * instead leaves them to open(), which deletes tables no manifest names) and rethrows.
 */
export async function writeRun(
  records: Iterable<KvRecord>,
  output: (i: number) => string,
  maxOutputs: number,
  options: RunWriteOptions,
): Promise<TableInfo[]> {
  if (maxOutputs < 1) throw new RangeError('writeRun needs at least one output');
  const fs = options.fs ?? nodeTableFs;
  const source = records[Symbol.iterator]();
  let next = source.next();
  /** The records of one table: up to the cut, or all that are left (`last`). */
  const piece = function* (last: boolean): Generator<KvRecord, void, undefined> {
    let bytes = 0;
    let count = 0;
    while (next.done !== true) {
      const rec = next.value;
      const size = recordBytes(rec);
      if (!last && count > 0 && (bytes + size > options.tableBytes || count === options.maxKeysPerTable)) return;
      yield rec;
      bytes += size;
      count++;
      next = source.next();
    }
  };
  const written: TableInfo[] = [];
  try {
    while (next.done !== true) {
      const last = written.length === maxOutputs - 1;
      const info = await writeTable(output(written.length), piece(last), {
        blockBytes: options.blockBytes,
        bloomBitsPerKey: options.bloomBitsPerKey,
        maxKeys: last ? options.totalKeys : Math.min(options.maxKeysPerTable, options.totalKeys),
        fs,
      });
      written.push(info);
    }
  } catch (err) {
    source.return?.();
    for (const info of written) await fs.unlink(info.path).catch(() => {});
    throw err;
  }
  return written;
}

/**
 * Runs `job` on its own handles of the input tables: writes the output tables (writeRun) and
 * returns how many it wrote, with ids from `job.firstOutputId` up; none when the merge is
 * empty.
 */
export async function runCompactionJob(job: CompactionJob, fs?: TableFs): Promise<number> {
  const runs: Table[][] = [];
  try {
    for (const paths of job.inputs) {
      const run: Table[] = [];
      runs.push(run);
      // Each input is read once, front to back: its index and filter need not stay resident.
      for (const input of paths)
        run.push(await Table.open(input, { access: 'scan', ...(fs === undefined ? {} : { fs }) }));
    }
    const output = (i: number) => path.join(job.outputDir, tableFileName(job.firstOutputId + i));
    const written = await writeRun(mergedEntries(runs, job.dropTombstones), output, job.maxOutputs, {
      tableBytes: job.tableBytes,
      maxKeysPerTable: job.maxKeysPerTable,
      totalKeys: inputKeys(runs.flat()),
      blockBytes: job.blockBytes,
      bloomBitsPerKey: job.bloomBitsPerKey,
      fs,
    });
    return written.length;
  } finally {
    for (const run of runs) for (const t of run) t.close();
  }
}
