import type { KvRecord } from '@kv/record';
import { Table, type TableFs, writeTable } from '@kv/sstable';
import { mergeNewest, runEntries } from './merge.js';

/** What a compaction merges and where it writes: plain data, so it can cross into a worker thread. */
export interface CompactionJob {
  /** Input table files by run, newest run first; a run's files in key order. */
  inputs: readonly (readonly string[])[];
  output: string;
  /** No older data exists below the output level: tombstones are dropped. */
  dropTombstones: boolean;
  blockBytes: number;
  bloomBitsPerKey: number;
}

/**
 * The newest version of every key across `runs` (newest run first; each table read once,
 * front to back, its pages dropped behind the scan), without tombstones when `dropTombstones`.
 */
export function mergedEntries(runs: readonly (readonly Table[])[], dropTombstones: boolean): Iterable<KvRecord> {
  const merged = mergeNewest(
    runs.map((run) => runEntries(run, {}, { dropBehind: true })),
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
 * included (the merge drops shadowed versions and maybe tombstones, never adds). Passed to
 * writeTable as `maxKeys`, so the output's filter is filled as the merge runs instead of from
 * 8 bytes of hashes per key held to the end.
 */
export function inputKeys(tables: readonly Table[]): number {
  let n = 0;
  for (const t of tables) n += t.info.count;
  return n;
}

/**
 * Runs `job` on its own handles of the input tables: writes the output table (temp file,
 * fsync, rename, fsync of the directory) and returns whether it holds any entry; with none,
 * no file is written.
 */
export async function runCompactionJob(job: CompactionJob, fs?: TableFs): Promise<boolean> {
  const fsOption = fs === undefined ? {} : { fs };
  const runs: Table[][] = [];
  try {
    for (const paths of job.inputs) {
      const run: Table[] = [];
      runs.push(run);
      for (const input of paths) run.push(await Table.open(input, fsOption));
    }
    const tables = runs.flat();
    const all = mergedEntries(runs, job.dropTombstones)[Symbol.iterator]();
    const head = all.next();
    if (head.done === true) return false;
    const records: Iterable<KvRecord> = {
      *[Symbol.iterator]() {
        yield head.value;
        for (let r = all.next(); r.done !== true; r = all.next()) yield r.value;
      },
    };
    await writeTable(job.output, records, {
      blockBytes: job.blockBytes,
      bloomBitsPerKey: job.bloomBitsPerKey,
      maxKeys: inputKeys(tables),
      ...fsOption,
    });
    return true;
  } finally {
    for (const run of runs) for (const t of run) t.close();
  }
}
