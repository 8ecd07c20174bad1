import * as path from 'node:path';
import type { Memtable } from '@kv/memtable';
import { ioError, KvError, type KvRecord } from '@kv/record';
import { Table, type TableInfo, writeTable } from '@kv/sstable';
import type { Wal } from '@kv/wal';
import { type CompactionPlan, pickCompaction } from './compaction.js';
import { type ManifestState, tableFileName, writeManifest } from './manifest.js';
import { type CompactionJob, mergedEntries, planOutputs, writeRun } from './compaction-job.js';
import { CompactionThread } from './compaction-thread.js';
import type { KvStore } from './store.js';
import { type Run, type TableHandle, Version } from './version.js';

/**
 * Background work of a store: flushing frozen memtables to level-0 tables, compacting levels,
 * and the manifest edits both make. Flushes run one at a time, compactions one at a time, and
 * manifest edits are serialized, so a flush and a compaction can overlap safely.
 */
export class Maintenance {
  version: Version;
  private manifest: ManifestState;
  private nextTableId: number;
  private flushing: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;
  private edits: Promise<unknown> = Promise.resolve();
  private roomWaiters: (() => void)[] = [];
  private stopped = false;
  private flushes = 0;
  private compactions = 0;
  /** Where compactions run: a worker thread, unless a test's tableFs must be used. */
  private readonly thread: CompactionThread | null;

  constructor(
    private readonly store: KvStore,
    manifest: ManifestState,
    version: Version,
    private readonly tablesDir: string,
  ) {
    this.manifest = manifest;
    this.version = version;
    this.nextTableId = manifest.nextTableId;
    this.thread = store.opts.compactionThread && store.opts.tableFs === undefined ? new CompactionThread() : null;
  }

  hasRoom(): boolean {
    return this.store.immutables.length < this.store.opts.maxImmutableMemtables || this.store.failed !== null;
  }

  /** Resolves when a writer may add to the memtables (too many waiting for flush: wait). */
  async waitForRoom(): Promise<void> {
    while (this.store.immutables.length >= this.store.opts.maxImmutableMemtables && this.store.failed === null) {
      this.scheduleFlush();
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  scheduleFlush(): void {
    if (this.flushing !== null || this.stopped) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
      this.wakeWriters();
    });
  }

  async flushAll(): Promise<void> {
    while (this.store.immutables.length > 0 && this.store.failed === null) {
      this.scheduleFlush();
      await this.flushing;
    }
  }

  async compactAll(): Promise<void> {
    while (this.compacting !== null) await this.compacting;
    this.compacting = this.compactLoop(true).finally(() => (this.compacting = null));
    await this.compacting;
  }

  /**
   * Resolves once no flush or compaction is running and none is due (background compaction
   * has caught up with the flushes), or the store has failed.
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.store.failed !== null) return;
      if (this.flushing !== null || this.compacting !== null) {
        await Promise.all([this.flushing, this.compacting]).catch(() => {});
        continue;
      }
      this.maybeCompact();
      if (this.compacting === null) return;
    }
  }

  /** Lets running work finish and starts no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.flushing !== null || this.compacting !== null) await Promise.all([this.flushing, this.compacting]);
    await this.edits;
    await this.thread?.close();
    this.wakeWriters();
  }

  closeTables(): void {
    for (const h of this.version.tables()) h.table.close();
  }

  stats() {
    return {
      flushedSeq: this.manifest.flushedSeq,
      levels: this.version.levels.map((l) => {
        const tables = l.flat();
        return {
          runs: l.length,
          tables: tables.length,
          entries: tables.reduce((n, h) => n + h.table.info.count, 0),
          bytes: tables.reduce((n, h) => n + h.table.info.fileBytes, 0),
        };
      }),
      tables: this.version.tableCount,
      flushes: this.flushes,
      compactions: this.compactions,
    };
  }

  private event(name: string): void {
    this.store.opts.onEventForTesting?.(name);
  }

  private wakeWriters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  private async flushLoop(): Promise<void> {
    while (this.store.immutables.length > 0 && this.store.failed === null) {
      const oldest = this.store.immutables.at(-1) as Memtable;
      try {
        await this.flushMemtable(oldest);
      } catch (err) {
        this.store.noteFailure(err, true);
        return;
      }
      this.store.immutables.pop();
      this.flushes++;
      this.wakeWriters();
      this.maybeCompact();
    }
  }

  /**
   * Writes `m` as a level-0 table, records it and the new WAL low-water mark in the manifest,
   * then drops WAL segments wholly below the mark.
   */
  private async flushMemtable(m: Memtable): Promise<void> {
    this.event('flush:start');
    const added = m.count > 0 ? await this.buildTable(m.entries(), m.count) : undefined;
    this.event('flush:table-written');
    const flushedSeq = this.safeFlushedSeq(m);
    await this.edit((levels) => {
      if (added !== undefined) levels[0] = [[added], ...(levels[0] ?? [])];
    }, flushedSeq);
    this.event('flush:manifest-written');
    const wal = this.store.wal;
    await wal.truncateFront(flushedSegmentsEnd(wal, flushedSeq));
    this.event('flush:wal-truncated');
  }

  /**
   * Every write with seq <= the result is in a table once `flushed` is: the WAL may drop them.
   * An unflushed memtable holds back the mark from its oldest version stored, replaced ones
   * included: a version replaced by a write not yet synced is still the one a crash must
   * recover (found by the torture test, power seed 2599: a replaced version counted as
   * flushed was skipped at replay once the write replacing it was lost).
   */
  private safeFlushedSeq(flushed: Memtable): number {
    let min = Number.POSITIVE_INFINITY;
    const consider = (m: Memtable) => {
      if (m !== flushed && m.storedBytes > 0 && m.minStoredSeq < min) min = m.minStoredSeq;
    };
    consider(this.store.active);
    for (const m of this.store.immutables) consider(m);
    for (const s of this.store.inFlight) if (s < min) min = s;
    const safe = min === Number.POSITIVE_INFINITY ? this.store.lastSeq : min - 1;
    return Math.max(safe, this.manifest.flushedSeq);
  }

  /**
   * The job that merges the plan's inputs into one run on the output level. Reserves the ids
   * its tables may take (planOutputs bounds how many); ids it leaves unused are skipped.
   */
  private compactionJob(plan: CompactionPlan): CompactionJob {
    const opts = this.store.opts;
    const out = planOutputs(
      plan.inputs.map((h) => h.table.info),
      opts.tableBytes,
    );
    const firstOutputId = this.nextTableId;
    this.nextTableId += out.maxTables;
    return {
      inputs: plan.runs.map((run) => run.map((h) => h.table.info.path)),
      outputDir: this.tablesDir,
      firstOutputId,
      maxOutputs: out.maxTables,
      dropTombstones: plan.dropTombstones,
      blockBytes: opts.blockBytes,
      bloomBitsPerKey: opts.bloomBitsPerKey,
      tableBytes: out.tableBytes,
      maxKeysPerTable: out.maxKeysPerTable,
    };
  }

  /**
   * Merges the plan's inputs on the event loop, through the store's own table handles (a
   * custom tableFs cannot cross into a thread).
   */
  private async compactHere(plan: CompactionPlan): Promise<Run> {
    const job = this.compactionJob(plan);
    const opts = this.store.opts;
    const records = mergedEntries(
      plan.runs.map((run) => run.map((h) => h.table)),
      plan.dropTombstones,
    );
    const output = (i: number) => path.join(this.tablesDir, tableFileName(job.firstOutputId + i));
    let written: TableInfo[];
    try {
      written = await writeRun(records, output, job.maxOutputs, {
        tableBytes: job.tableBytes,
        maxKeysPerTable: job.maxKeysPerTable,
        totalKeys: plan.inputs.reduce((n, h) => n + h.table.info.count, 0),
        blockBytes: opts.blockBytes,
        bloomBitsPerKey: opts.bloomBitsPerKey,
        fs: opts.tableFs,
      });
    } catch (err) {
      throw err instanceof KvError ? err : ioError(`writing compaction output in ${this.tablesDir}`, err);
    }
    return this.openOutputs(job, written.length);
  }

  /** Merges the plan's inputs on the compaction thread, then opens the outputs here. */
  private async compactInThread(plan: CompactionPlan, thread: CompactionThread): Promise<Run> {
    const job = this.compactionJob(plan);
    return this.openOutputs(job, await thread.run(job));
  }

  /** Opens the first `count` output tables of `job`, the run it wrote (closing them all on failure). */
  private async openOutputs(job: CompactionJob, count: number): Promise<Run> {
    const fsOption = this.store.opts.tableFs === undefined ? {} : { fs: this.store.opts.tableFs };
    const run: TableHandle[] = [];
    for (let i = 0; i < count; i++) {
      const id = job.firstOutputId + i;
      const file = path.join(this.tablesDir, tableFileName(id));
      try {
        run.push({
          id,
          table: await Table.open(file, { ...fsOption, cache: this.store.blockCache }),
          refs: 0,
          obsolete: false,
        });
      } catch (err) {
        for (const h of run) h.table.close();
        throw err instanceof KvError ? err : ioError(`opening compacted table ${file}`, err);
      }
    }
    return run;
  }

  /** Writes `records`, at most `maxKeys` of them (the table's filter is sized for that many up front). */
  private async buildTable(records: Iterable<KvRecord>, maxKeys: number): Promise<TableHandle | undefined> {
    const first = records[Symbol.iterator]();
    const head = first.next();
    if (head.done === true) return undefined;
    const all: Iterable<KvRecord> = {
      *[Symbol.iterator]() {
        yield head.value;
        for (let r = first.next(); r.done !== true; r = first.next()) yield r.value;
      },
    };
    const id = this.nextTableId++;
    const file = path.join(this.tablesDir, tableFileName(id));
    const opts = this.store.opts;
    const fsOption = opts.tableFs === undefined ? {} : { fs: opts.tableFs };
    try {
      await writeTable(file, all, {
        blockBytes: opts.blockBytes,
        bloomBitsPerKey: opts.bloomBitsPerKey,
        maxKeys,
        ...fsOption,
      });
      return {
        id,
        table: await Table.open(file, { ...fsOption, cache: this.store.blockCache }),
        refs: 0,
        obsolete: false,
      };
    } catch (err) {
      throw err instanceof KvError ? err : ioError(`writing table ${file}`, err);
    }
  }

  /**
   * Applies `change` to a copy of the current levels, makes it durable in the manifest, then
   * installs it; tables in `obsolete` are deleted only after the manifest no longer names them.
   */
  private edit(change: (levels: Run[][]) => void, flushedSeq?: number, obsolete: TableHandle[] = []) {
    const run = this.edits.then(async () => {
      const levels = this.version.levels.map((l) => [...l]);
      change(levels);
      const next = new Version(levels);
      let lastSeq = this.manifest.lastSeq;
      for (const h of next.tables()) lastSeq = Math.max(lastSeq, h.table.info.maxSeq);
      const state: ManifestState = {
        nextTableId: this.nextTableId,
        flushedSeq: Math.max(this.manifest.flushedSeq, flushedSeq ?? 0),
        lastSeq,
        ...next.ids(),
      };
      await writeManifest(this.store.dir, state, this.store.opts.fs);
      if (obsolete.length > 0) this.event('compaction:manifest-written');
      this.manifest = state;
      next.retain();
      const old = this.version;
      this.version = next;
      for (const h of obsolete) h.obsolete = true;
      old.release();
      const fs = this.store.opts.fs;
      try {
        for (const h of obsolete) await fs.unlink(path.join(this.tablesDir, tableFileName(h.id)));
        if (obsolete.length > 0) await fs.fsyncDir(this.tablesDir);
      } catch (err) {
        throw ioError('deleting compacted tables', err);
      }
      if (obsolete.length > 0) this.event('compaction:inputs-deleted');
    });
    this.edits = run.catch(() => {});
    return run;
  }

  private maybeCompact(): void {
    if (!this.store.opts.autoCompact || this.compacting !== null || this.stopped) return;
    if (pickCompaction(this.version.levels, this.store.opts.runsPerLevel) === null) return;
    this.compacting = this.compactLoop(false).finally(() => (this.compacting = null));
  }

  private async compactLoop(force: boolean): Promise<void> {
    for (;;) {
      if (this.store.failed !== null || (this.stopped && !force)) return;
      const plan = pickCompaction(this.version.levels, this.store.opts.runsPerLevel, force);
      if (plan === null) return;
      try {
        await this.compact(plan);
      } catch (err) {
        this.store.noteFailure(err);
        if (force) throw err;
        return;
      }
      this.compactions++;
    }
  }

  /**
   * Writes the merged run (every output table durable first), then installs it with one
   * manifest edit that also drops the inputs: a crash before the edit leaves only tables no
   * manifest names, which open() deletes.
   */
  private async compact(plan: CompactionPlan): Promise<void> {
    const output = this.thread === null ? await this.compactHere(plan) : await this.compactInThread(plan, this.thread);
    this.event('compaction:table-written');
    const inputs = new Set(plan.inputs);
    await this.edit(
      (levels) => {
        // A run is an input as a whole (the plan takes every run of its level), and flushes
        // since the plan only added runs in front of level 0.
        levels[plan.level] = (levels[plan.level] ?? []).filter((run) => !inputs.has(run[0] as TableHandle));
        if (output.length > 0) levels[plan.outputLevel] = [output, ...(levels[plan.outputLevel] ?? [])];
      },
      undefined,
      [...plan.inputs],
    );
  }
}

/**
 * The index after the front segments of `wal` that hold only seqs <= `flushedSeq`: what
 * `truncateFront` may drop, which is whole segments, never the last. It reads one entry per
 * segment (seqs grow with indices), not a binary search over every entry: each read of the
 * mapping maps in the page-cache folio around it (64 KiB-1 MiB), which stayed resident.
 */
function flushedSegmentsEnd(wal: Wal, flushedSeq: number): number {
  let end = wal.firstIndex;
  for (let i = 0; i < wal.segmentCount - 1; i++) {
    const last = wal.segmentLastIndex(i);
    if (last >= end && wal.get(last).seq > flushedSeq) break;
    end = last + 1;
  }
  return end;
}
