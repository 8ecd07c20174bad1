import * as path from 'node:path';
import { Memtable } from '@kv/memtable';
import { describe, ioError, KvError, type KvRecord, toBytes } from '@kv/record';
import { BlockCache } from '@kv/sstable';
import { acquireDirLock, type DirLock, type RecoveryReport, Wal } from '@kv/wal';
import { type BatchOperation, batchToRecords, toRecord } from './batch.js';
import { WriteGate } from './gate.js';
import { type IteratorOptions, KvIterator, resolveRange } from './iterator.js';
import { searchTables } from './lookup.js';
import type { ManifestState } from './manifest.js';
import { Maintenance } from './maintenance.js';
import { type KvStoreOptions, type ResolvedKvStoreOptions, resolveKvStoreOptions } from './options.js';
import { loadState, TABLES_DIR, WAL_DIR } from './open.js';
import { KvTransaction } from './transaction.js';
import { type Change, changesSince } from './changes.js';
import { replayWal } from './replay.js';
import { KvClient } from './client.js';
import { RateLimiter } from './rate-limit.js';
import { cmsAdd, cmsCount, hllAdd, type Item, readHll } from './sketches/ops.js';
import type { Version } from './version.js';

export interface StoreRecovery {
  wal: RecoveryReport;
  /** WAL entries applied to the memtable at open. */
  replayed: number;
  /** WAL entries skipped because a table already holds them. */
  skipped: number;
  /** Table files no manifest named (a flush or compaction cut short), removed at open. */
  removedTables: string[];
}

/**
 * The store. Writes go to the WAL first (durable per `sync`), then to the memtable; full
 * memtables are flushed to tables in the background and tables are compacted in the
 * background. Reads are synchronous. See ../README.md for the guarantees.
 */
export class KvStore {
  /** @internal shared with Maintenance */
  active: Memtable;
  /** @internal frozen memtables waiting to be flushed, newest first */
  immutables: Memtable[] = [];
  /** @internal */
  lastSeq: number;
  /** @internal first seq of each write that is being logged and is not yet in a memtable */
  readonly inFlight = new Set<number>();
  private failure: KvError | null = null;
  private closing = false;
  private closed = false;
  private readonly maintenance: Maintenance;
  private readonly gate = new WriteGate();
  private readonly limiter: RateLimiter | undefined;

  private constructor(
    readonly dir: string,
    /** @internal */ readonly opts: ResolvedKvStoreOptions,
    private readonly lock: DirLock,
    /** @internal */ readonly wal: Wal,
    manifest: ManifestState,
    version: Version,
    private readonly recovery: StoreRecovery,
    /** @internal shared by every table of this store */ readonly blockCache: BlockCache,
  ) {
    this.active = new Memtable({ thresholdBytes: opts.memtableBytes });
    this.lastSeq = Math.max(manifest.lastSeq, manifest.flushedSeq);
    this.maintenance = new Maintenance(this, manifest, version, path.join(dir, TABLES_DIR));
    this.limiter = opts.rateLimit === undefined ? undefined : new RateLimiter(opts.rateLimit);
  }

  /** Opens (creating if needed) the store in `dir`: reads the manifest, opens tables, replays the WAL. */
  static async open(dir: string, options?: KvStoreOptions): Promise<KvStore> {
    if (typeof dir !== 'string' || dir === '')
      throw new TypeError(`dir must be a non-empty string, got ${describe(dir)}`);
    const opts = resolveKvStoreOptions(options);
    try {
      await opts.fs.mkdir(dir);
      await opts.fs.fsyncDir(path.dirname(path.resolve(dir)));
    } catch (err) {
      throw ioError(`creating ${dir}`, err);
    }
    const lock = acquireDirLock(dir, 'LOCK');
    const cache = new BlockCache({ maxBytes: opts.blockCacheBytes });
    let wal: Wal | undefined;
    let state: Awaited<ReturnType<typeof loadState>> | undefined;
    try {
      state = await loadState(dir, opts, cache);
      wal = await Wal.open(path.join(dir, WAL_DIR), {
        sync: opts.sync,
        maxSegmentBytes: opts.walSegmentBytes,
        recoveryMode: opts.recoveryMode,
        limits: opts.limits,
        ...(opts.walFs === undefined ? {} : { fs: opts.walFs }),
      });
      const recovery: StoreRecovery = {
        wal: wal.recoveryReport,
        replayed: 0,
        skipped: 0,
        removedTables: state.removed,
      };
      const store = new KvStore(dir, opts, lock, wal, state.manifest, state.version, recovery, cache);
      store.replay(state.manifest.flushedSeq);
      return store;
    } catch (err) {
      await wal?.close().catch(() => {});
      state?.version.release();
      for (const h of state?.version.tables() ?? []) h.table.close();
      lock.release();
      throw err;
    }
  }

  /**
   * Applies WAL entries newer than the tables to memtables (replay.ts). Flushes of the full
   * ones start on the loop turn after open() resolves, not in the middle of it (a flush
   * sorts its memtable before its first await).
   */
  private replay(flushedSeq: number): void {
    const { replayed, skipped } = replayWal(this.wal, flushedSeq, this.opts.limits, this);
    this.recovery.replayed = replayed;
    this.recovery.skipped = skipped;
    if (this.immutables.length > 0) setImmediate(() => this.maintenance.scheduleFlush());
  }

  /** Stores `value` under `key`; resolves once logged (durable under sync 'always'). */
  async put(key: string | Uint8Array, value: string | Uint8Array): Promise<void> {
    this.guardWrite();
    await this.write([toRecord(key, value, false, this.opts.limits)]);
  }

  async delete(key: string | Uint8Array): Promise<void> {
    this.guardWrite();
    await this.write([toRecord(key, undefined, true, this.opts.limits)]);
  }

  /** Applies every operation or none, across a crash too (one WAL frame). */
  async batch(ops: readonly BatchOperation[]): Promise<void> {
    this.guardWrite();
    const recs = batchToRecords(ops, this.opts.limits);
    if (recs.length > 0) await this.write(recs);
  }

  /**
   * Runs `fn` as one serializable transaction: its reads see the store and its own writes,
   * no other write happens between its first read and its commit, and its writes are applied
   * atomically (one WAL frame) when `fn` resolves — or not at all if it throws. Resolves with
   * what `fn` returned.
   */
  async transaction<T>(fn: (tx: KvTransaction) => Promise<T> | T): Promise<T> {
    this.guardWrite();
    if (typeof fn !== 'function') throw new TypeError(`transaction takes a function, got ${describe(fn)}`);
    return this.gate.runExclusive(async () => {
      this.guardWrite();
      const tx = new KvTransaction((k) => this.getRecord(k), this.opts.limits);
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        tx.seal(); // rolled back: nothing was logged
        throw err;
      }
      const recs = tx.seal();
      if (recs.length > 0) await this.write(recs, true);
      return result;
    });
  }

  /** The value stored under `key`, or undefined. Synchronous. */
  get(key: string | Uint8Array): Uint8Array | undefined {
    this.guardOpen();
    const k = typeof key === 'string' ? toBytes(key) : key;
    if (!(k instanceof Uint8Array)) throw new TypeError(`key must be a string or a Uint8Array, got ${describe(key)}`);
    // A copy of the value, never the memtable's bytes (replay adopts the WAL's own mapping).
    let v: Uint8Array | null | undefined = this.active.count === 0 ? undefined : this.active.getValue(k);
    for (let i = 0; v === undefined && i < this.immutables.length; i++)
      v = (this.immutables[i] as Memtable).getValue(k);
    if (v !== undefined) return v ?? undefined;
    // Tables: only the value is copied out, no record is built.
    return (searchTables(this.maintenance.version, k, false) as Uint8Array | null | undefined) ?? undefined;
  }

  /** @internal the newest record for `k`, tombstones included */
  getRecord(k: Uint8Array): KvRecord | undefined {
    return this.fromMemtables(k) ?? (searchTables(this.maintenance.version, k, true) as KvRecord | undefined);
  }

  /** The newest record for `k` in the memtables, newest first. */
  private fromMemtables(k: Uint8Array): KvRecord | undefined {
    // An empty memtable is skipped: its lookup would still convert the key to a string.
    let rec: KvRecord | undefined = this.active.count === 0 ? undefined : this.active.get(k);
    for (let i = 0; rec === undefined && i < this.immutables.length; i++) rec = (this.immutables[i] as Memtable).get(k);
    return rec;
  }

  /** Adds items to the HyperLogLog stored at `key` (created on first use); resolves with the new estimate. */
  hllAdd(key: Item, items: Iterable<Item>): Promise<number> {
    return this.transaction((tx) => hllAdd(tx, key, items));
  }

  /** Estimated number of distinct items added to the HyperLogLog at `key` (0 if none). */
  hllCount(key: Item): number {
    this.guardOpen();
    return readHll(this.getRecord(toBytes(key)), key)?.count() ?? 0;
  }

  /** Adds `count` occurrences of `item` to the Count-Min Sketch at `key`; resolves with its new estimate. */
  cmsAdd(key: Item, item: Item, count = 1): Promise<number> {
    return this.transaction((tx) => cmsAdd(tx, key, item, count));
  }

  /** Estimated occurrences of `item` in the Count-Min Sketch at `key` (never below the truth). */
  cmsQuery(key: Item, item: Item): number {
    this.guardOpen();
    return cmsCount(this.getRecord(toBytes(key)), key, item);
  }

  /** The store as client `id` sees it, rate-limited by the `rateLimit` option. */
  client(id: string): KvClient {
    this.guardOpen();
    return new KvClient(this, id, this.limiter);
  }

  /**
   * Every write with seq > `since`, in order, then new writes live until the store closes
   * (change data capture, replication). Reaches back only as far as the WAL does.
   */
  changes(options: { since?: number } = {}): AsyncGenerator<Change, void, undefined> {
    this.guardOpen();
    const since = options.since ?? 0;
    if (!Number.isSafeInteger(since) || since < 0) throw new TypeError('since must be a non-negative integer seq');
    return changesSince(this.wal, since, this.maintenance.stats().flushedSeq);
  }

  /** A lazy, consistent view of [key, value] pairs in bytewise key order. */
  iterator(options: IteratorOptions = {}): KvIterator {
    this.guardOpen();
    const range = resolveRange(options);
    const memtables = [this.active.snapshot(), ...this.immutables.map((m) => m.snapshot())];
    return new KvIterator(memtables, this.maintenance.version, range, () => this.guardOpen());
  }

  /** Writes the memtable to a table and waits until every memtable is flushed. */
  async flush(): Promise<void> {
    this.guardWrite();
    if (this.active.count > 0) this.rotate();
    await this.maintenance.flushAll();
    this.guardWrite();
  }

  /**
   * Flushes, then waits until background compaction has caught up: no flush or compaction
   * running and none due. Reads after it probe the fewest runs the compaction policy
   * leaves; unlike compact(), it merges only what the policy would merge anyway.
   */
  async waitForCompaction(): Promise<void> {
    await this.flush();
    await this.maintenance.idle();
    this.guardWrite();
  }

  /** Flushes, then merges every table into one run on the last level. */
  async compact(): Promise<void> {
    await this.flush();
    await this.maintenance.compactAll();
    this.guardWrite();
  }

  stats(): KvStoreStats {
    this.guardOpen();
    return {
      lastSeq: this.lastSeq,
      memtable: { entries: this.active.count, bytes: this.active.byteSize },
      immutableMemtables: this.immutables.length,
      ...this.maintenance.stats(),
      wal: this.wal.stats(),
      blockCache: this.blockCache.stats(),
      recovery: this.recovery,
      failed: this.failure?.message ?? null,
    };
  }

  /** Waits for background work, closes the WAL and tables, and releases the directory. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.maintenance.stop();
      await this.wal.close().catch((err) => this.noteFailure(err));
    } finally {
      this.maintenance.closeTables();
      this.closed = true;
      this.lock.release();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals shared with Maintenance ----

  /** @internal */
  rotate(flush = true): void {
    const full = this.active;
    full.freeze();
    this.immutables.unshift(full);
    this.active = new Memtable({ thresholdBytes: this.opts.memtableBytes });
    // The next memtable most likely fills with about as many records as this one: sized for
    // them now, its index and arena do not grow by doubling (a copy and a rehash each time,
    // ~6 MB of garbage per 8 MiB memtable of 100-byte values).
    if (full.isFull) this.active.reserve(full.count);
    if (flush) this.maintenance.scheduleFlush();
  }

  /**
   * @internal records the first I/O or corruption failure; every later write rejects with it.
   * `sticky`: record it whatever its code (a flush that cannot complete: the memtables it leaves
   * behind would be retried forever).
   */
  noteFailure(err: unknown, sticky = false): KvError {
    const e = err instanceof KvError ? err : ioError(`store in ${this.dir}`, err);
    if (this.failure === null && (sticky || e.code === 'KV_IO_ERROR' || e.code === 'KV_CORRUPTION')) this.failure = e;
    return e;
  }

  /** @internal */
  get failed(): KvError | null {
    return this.failure;
  }

  private guardOpen(): void {
    if (this.closed || this.closing) {
      throw new KvError('KV_NOT_OPEN', `the store in ${this.dir} is closed; open it again to use it`);
    }
  }

  private guardWrite(): void {
    this.guardOpen();
    if (this.failure !== null) throw this.failure;
  }

  /** @internal logs and applies `recs`; `exclusive` when the caller holds the write gate */
  async write(recs: KvRecord[], exclusive = false): Promise<void> {
    if (!exclusive && !this.gate.tryEnter()) await this.gate.enter();
    try {
      await this.logAndApply(recs);
    } finally {
      if (!exclusive) this.gate.leave();
    }
  }

  private async logAndApply(recs: KvRecord[]): Promise<void> {
    if (!this.maintenance.hasRoom()) await this.maintenance.waitForRoom();
    this.guardWrite();
    // Seqs are assigned and the WAL append is issued in the same synchronous step, so seq
    // order and WAL index order agree.
    const first = this.lastSeq + 1;
    for (const r of recs) r.seq = ++this.lastSeq;
    this.inFlight.add(first);
    try {
      if (recs.length === 1) await this.wal.append(recs[0] as KvRecord);
      else await this.wal.appendBatch(recs);
    } catch (err) {
      throw this.noteFailure(err);
    } finally {
      this.inFlight.delete(first);
    }
    // All records of a batch become visible in one synchronous step.
    for (const r of recs) this.active.put(r);
    if (this.active.isFull) this.rotate();
  }
}

export interface KvStoreStats {
  lastSeq: number;
  memtable: { entries: number; bytes: number };
  immutableMemtables: number;
  flushedSeq: number;
  /** Per level: its runs, their tables (a compaction's run may be several), entries and file bytes. */
  levels: { runs: number; tables: number; entries: number; bytes: number }[];
  tables: number;
  flushes: number;
  compactions: number;
  wal: ReturnType<Wal['stats']>;
  blockCache: ReturnType<BlockCache['stats']>;
  recovery: StoreRecovery;
  failed: string | null;
}
