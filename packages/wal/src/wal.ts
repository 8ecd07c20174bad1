import { checkRecordLimits, describe, ioError, KvError, KvRecord } from '@kv/record';
import { codecFor, type EntryCodec } from './entry-codec.js';
import { CODEC_IDS, frameBytes, SEGMENT_HEADER_BYTES } from './format.js';
import { GroupCommit } from './group-commit.js';
import { acquireDirLock, type DirLock } from './lock.js';
import { type ResolvedWalOptions, resolveWalOptions, type WalOptions } from './options.js';
import { type RecoveryReport, recover } from './recovery.js';
import { type TransactionOptions, Transactions } from './transactions.js';
import type { Segment } from './segment.js';
import { createSegment, prepareTail } from './segment-file.js';

export interface WalEntry {
  index: number;
  record: KvRecord;
}

export interface WalStats {
  segments: number;
  firstIndex: number;
  lastIndex: number;
  durableIndex: number;
  buffered: number;
  pendingTransactions: number;
  syncs: number;
  recovery: RecoveryReport;
}

/**
 * A segmented, memory-mapped write-ahead log. Writes are serialized and return promises that
 * resolve once the entry is durable under `sync`; reads are synchronous. Every public method
 * first checks that the log is open and has not failed: after an I/O error no later write is
 * acknowledged until the log is reopened. See ../README.md and ../FORMAT.md.
 */
export class Wal {
  private segments: Segment[];
  private readonly commit: GroupCommit;
  private readonly newCodec: EntryCodec;
  private queue: Promise<unknown> = Promise.resolve();
  private buffer: KvRecord[] = [];
  private failure: KvError | null = null;
  private closed = false;
  private syncs = 0;
  private readonly transactions: Transactions;
  private changeWaiters: (() => void)[] = [];

  private constructor(
    readonly dir: string,
    private readonly opts: ResolvedWalOptions,
    private readonly lock: DirLock,
    segments: Segment[],
    readonly recoveryReport: RecoveryReport,
  ) {
    this.segments = segments;
    this.newCodec = codecFor(CODEC_IDS[opts.codec]);
    const last = segments.at(-1) as Segment;
    this.commit = new GroupCommit(
      () => this.syncCurrent(),
      (err) => this.fail('sync', err),
      last.lastIndex,
    );
    this.transactions = new Transactions(
      (records) => this.write(records, true),
      (rec) => this.check(rec),
    );
  }

  /** Opens (creating if needed) the log in `dir`, recovering and verifying every segment. */
  static async open(dir: string, options?: WalOptions): Promise<Wal> {
    if (typeof dir !== 'string' || dir === '')
      throw new TypeError(`dir must be a non-empty string, got ${describe(dir)}`);
    const opts = resolveWalOptions(options);
    try {
      await opts.fs.mkdir(dir);
    } catch (err) {
      throw ioError(`creating WAL directory ${dir}`, err);
    }
    const lock = acquireDirLock(dir, `${opts.name}.lock`);
    try {
      const { segments, report } = await recover(dir, opts);
      if (segments.length === 0) {
        segments.push(await createSegment(dir, opts, 1, 1, codecFor(CODEC_IDS[opts.codec])));
      } else {
        await prepareTail(segments.at(-1) as Segment, opts);
      }
      return new Wal(dir, opts, lock, segments, report);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  get segmentCount(): number {
    this.guardOpen();
    return this.segments.length;
  }
  /** Index of the oldest live entry (lastIndex + 1 when the log is empty). */
  get firstIndex(): number {
    this.guardOpen();
    return (this.segments[0] as Segment).firstIndex;
  }
  /** Index of the newest entry (firstIndex - 1 when the log is empty). Buffered entries have none yet. */
  get lastIndex(): number {
    this.guardOpen();
    return (this.segments.at(-1) as Segment).lastIndex;
  }

  /** Appends one entry; resolves with its index once durable under `sync`. */
  async append(rec: KvRecord): Promise<number> {
    const indices = await this.write([rec], true);
    return indices[0] as number;
  }

  /**
   * Appends `recs` as one frame: after a crash all of them are there or none. Resolves with
   * their indices. A batch never spans segments, and may exceed maxRecordsPerSegment alone.
   */
  async appendBatch(recs: readonly KvRecord[]): Promise<number[]> {
    if (!Array.isArray(recs)) throw new TypeError(`appendBatch takes an array of KvRecord, got ${describe(recs)}`);
    if (recs.length === 0) return [];
    return this.write(recs, true);
  }

  /** Buffers `rec` in memory; when bufferCapacity entries are buffered, flushes them all. */
  async bufferedAppend(rec: KvRecord): Promise<void> {
    this.guardWrite();
    this.check(rec);
    this.buffer.push(rec);
    if (this.buffer.length >= this.opts.bufferCapacity) await this.flushBuffer();
  }

  /** Writes the buffered entries, each in its own frame, filling every segment to its limit. */
  async flushBuffer(): Promise<number[]> {
    this.guardWrite();
    const recs = this.buffer;
    this.buffer = [];
    if (recs.length === 0) return [];
    return this.write(recs, false);
  }

  /** Makes every written entry durable now (useful with sync 'none'). */
  async sync(): Promise<void> {
    this.guardWrite();
    await this.commit.wait(this.lastIndex);
  }

  readLastSegment(): KvRecord[] {
    this.guardOpen();
    return (this.segments.at(-1) as Segment).readAll(this.opts.limits);
  }

  /** The entries of the live segment at position `i` (0 = oldest live). RangeError outside. */
  readSegmentAt(i: number): KvRecord[] {
    this.guardOpen();
    this.checkPosition('readSegmentAt', i, this.segments.length - 1);
    return (this.segments[i] as Segment).readAll(this.opts.limits);
  }

  readAllSegments(): KvRecord[] {
    return this.readSegmentsInRange(0, this.segmentCount);
  }

  /** Entries of the live segments at positions [start, end). */
  readSegmentsInRange(start: number, end: number): KvRecord[] {
    this.guardOpen();
    this.checkPosition('readSegmentsInRange start', start, this.segments.length);
    this.checkPosition('readSegmentsInRange end', end, this.segments.length);
    if (end < start) throw new RangeError(`readSegmentsInRange: end ${end} is before start ${start}`);
    const out: KvRecord[] = [];
    for (let i = start; i < end; i++) out.push(...(this.segments[i] as Segment).readAll(this.opts.limits));
    return out;
  }

  /** The entry at `index`. RangeError when it is not in [firstIndex, lastIndex]. */
  get(index: number): KvRecord {
    this.guardOpen();
    return this.segmentOf(index).read(index, this.opts.limits);
  }

  /** Entries with indices in [start, end). */
  getRange(start: number, end: number): KvRecord[] {
    const out: KvRecord[] = [];
    for (const e of this.entries(start, end)) out.push(e.record);
    return out;
  }

  /** Lazily yields entries with indices in [start, end), by default all of them. */
  *entries(start = this.firstIndex, end = this.lastIndex + 1): IterableIterator<WalEntry> {
    this.guardOpen();
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end))
      throw new TypeError('entries: indices must be integers');
    if (start < this.firstIndex || end > this.lastIndex + 1 || end < start) {
      throw new RangeError(`entries: [${start}, ${end}) is outside [${this.firstIndex}, ${this.lastIndex + 1})`);
    }
    for (let index = start; index < end; index++) {
      this.guardOpen();
      yield { index, record: this.segmentOf(index).read(index, this.opts.limits) };
    }
  }

  /** Drops the live segments before position `lowWaterMark` (never the last). Resolves with how many. */
  deleteOldSegments(): Promise<number> {
    return this.exclusive(() => this.dropFront(Math.min(this.opts.lowWaterMark, this.segments.length - 1)));
  }

  /** Drops every whole segment whose entries all lie below `index` (never the last). */
  async truncateFront(index: number): Promise<number> {
    this.checkIndexArg('truncateFront', index);
    return this.exclusive(() => {
      let n = 0;
      while (n < this.segments.length - 1 && (this.segments[n] as Segment).lastIndex < index) n++;
      return this.dropFront(n);
    });
  }

  /**
   * Drops every entry after `index`, durably: a new segment starting at index + 1 supersedes
   * the dropped entries on disk before any file is deleted, so a crash leaves either all of
   * them or none. The next append gets index + 1.
   */
  async truncate(index: number): Promise<void> {
    this.checkIndexArg('truncate', index);
    return this.exclusive(async () => {
      if (index < this.firstIndex - 1 || index > this.lastIndex) {
        throw new RangeError(`truncate: ${index} is outside [${this.firstIndex - 1}, ${this.lastIndex}]`);
      }
      this.buffer = [];
      if (index === this.lastIndex) return;
      await this.supersedeFrom(index + 1);
    });
  }

  /** Empties the last segment durably (its entries are dropped; positions stay the same). */
  resetLastSegment(): Promise<void> {
    return this.exclusive(async () => {
      this.buffer = [];
      await this.supersedeFrom((this.segments.at(-1) as Segment).firstIndex);
    });
  }

  /** Starts a transaction (walrus): entries are buffered until commitTransaction writes them as one frame. */
  beginTransaction(options?: TransactionOptions): string {
    this.guardWrite();
    return this.transactions.begin(options);
  }

  addToTransaction(id: string, rec: KvRecord): void {
    this.guardWrite();
    this.transactions.add(id, rec);
  }

  /** Writes the transaction atomically; resolves with its entries' indices once durable per `sync`. */
  async commitTransaction(id: string): Promise<number[]> {
    this.guardWrite();
    return this.transactions.commit(id);
  }

  rollbackTransaction(id: string): void {
    this.guardOpen();
    this.transactions.rollback(id);
  }

  /**
   * Entries from `from` on, following new appends live and across segment rotation, until
   * the log closes. Entries appear once durable under `sync: 'always'`, once written under
   * 'none'. Throws RangeError if the entries it needs next were deleted or truncated away.
   */
  async *tail(from: number = this.firstIndex): AsyncGenerator<WalEntry, void, undefined> {
    this.guardOpen();
    this.checkIndexArg('tail', from);
    let next = from;
    for (;;) {
      if (this.closed) return;
      if (next < this.firstIndex) {
        throw new RangeError(`tail: entry ${next} was deleted (the log now starts at ${this.firstIndex})`);
      }
      if (next > this.lastIndex + 1) {
        throw new RangeError(`tail: the log was truncated to ${this.lastIndex}, below the tail position ${next}`);
      }
      const visible = this.opts.sync === 'always' ? Math.min(this.commit.durableIndex, this.lastIndex) : this.lastIndex;
      if (next <= visible) {
        yield { index: next, record: this.get(next) };
        next++;
        continue;
      }
      await new Promise<void>((resolve) => this.changeWaiters.push(resolve));
    }
  }

  stats(): WalStats {
    this.guardOpen();
    return {
      segments: this.segments.length,
      firstIndex: this.firstIndex,
      lastIndex: this.lastIndex,
      durableIndex: this.commit.durableIndex,
      buffered: this.buffer.length,
      pendingTransactions: this.transactions.pendingCount,
      syncs: this.syncs,
      recovery: this.recoveryReport,
    };
  }

  /** Flushes the buffer, syncs, and releases the files and the directory lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.transactions.rollbackAll();
    try {
      if (this.failure === null && this.buffer.length > 0) await this.flushBuffer().catch(() => {});
      await this.queue.catch(() => {});
      await this.commit.idle();
      if (this.failure === null) {
        const last = this.segments.at(-1) as Segment;
        await this.opts.fs.fdatasync(last.fd).catch((err) => this.fail('sync on close', err));
      }
    } finally {
      this.closed = true;
      this.notifyTails();
      await Promise.all(this.segments.map((s) => this.opts.fs.close(s.fd).catch(() => {})));
      this.lock.release();
    }
    if (this.failure !== null) throw this.failure;
  }

  /**
   * Test hook: drops this handle as a killed process would, without flushing, syncing or
   * closing anything but the lock, so a test can reopen the directory in the same process.
   */
  crashForTesting(): void {
    this.closed = true;
    this.lock.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals ----

  private guardOpen(): void {
    if (this.closed) throw new KvError('KV_NOT_OPEN', `the WAL in ${this.dir} is closed; open it again to use it`);
  }

  private guardWrite(): void {
    this.guardOpen();
    if (this.failure !== null) throw this.failure;
  }

  private fail(what: string, err: unknown): KvError {
    if (this.failure === null) this.failure = ioError(`WAL ${what} in ${this.dir}`, err);
    return this.failure;
  }

  private check(rec: KvRecord): number {
    if (!(rec instanceof KvRecord)) throw new TypeError(`expected a KvRecord, got ${describe(rec)}`);
    checkRecordLimits(rec, this.opts.limits);
    return this.newCodec.sizeOf(rec);
  }

  private checkPosition(what: string, i: number, max: number): void {
    if (!Number.isInteger(i) || i < 0 || i > max) {
      throw new RangeError(
        `${what}: position ${i} is out of bounds (0..${max}, ${this.segments.length} live segments)`,
      );
    }
  }

  private checkIndexArg(what: string, index: number): void {
    if (typeof index !== 'number') throw new TypeError(`${what}: index must be a number, got ${describe(index)}`);
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`${what}: ${index} is not a valid index`);
  }

  private segmentOf(index: number): Segment {
    if (!Number.isSafeInteger(index) || index < this.firstIndex || index > this.lastIndex) {
      throw new RangeError(`index ${index} is outside [${this.firstIndex}, ${this.lastIndex}]`);
    }
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.segments[mid] as Segment).firstIndex <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo] as Segment;
  }

  /** Runs `op` after every earlier write-side operation, refusing it if the log failed. */
  private exclusive<T>(op: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(() => {
      this.guardWrite();
      return op();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Writes `recs` (as one frame when `atomic`, else a frame each), then waits for durability
   * under `sync`. Validation happens before anything is written.
   */
  private async write(recs: readonly KvRecord[], atomic: boolean): Promise<number[]> {
    this.guardWrite();
    const sizes = recs.map((r) => this.check(r));
    const max = this.maxFrameBytes();
    const frames = atomic ? [frameBytes(sizes)] : sizes.map((s) => frameBytes([s]));
    for (const f of frames) {
      if (f > max) {
        throw new KvError(
          'KV_TOO_LARGE',
          `a frame of ${f} bytes cannot fit a ${this.opts.maxSegmentBytes}-byte segment; raise maxSegmentBytes`,
        );
      }
    }
    const indices = await this.exclusive(async () => {
      const out: number[] = [];
      if (atomic) {
        const first = await this.writeFrame(recs, sizes, frames[0] as number);
        for (let i = 0; i < recs.length; i++) out.push(first + i);
      } else {
        for (let i = 0; i < recs.length; i++) {
          out.push(await this.writeFrame([recs[i] as KvRecord], [sizes[i] as number], frames[i] as number));
        }
      }
      return out;
    });
    if (this.opts.sync === 'always') await this.commit.wait(indices.at(-1) as number);
    this.notifyTails();
    return indices;
  }

  private notifyTails(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }

  private maxFrameBytes(): number {
    return this.opts.maxSegmentBytes - SEGMENT_HEADER_BYTES;
  }

  private async writeFrame(recs: readonly KvRecord[], sizes: readonly number[], bytes: number): Promise<number> {
    let seg = this.segments.at(-1) as Segment;
    const full = seg.count > 0 && seg.count + recs.length > this.opts.maxRecordsPerSegment;
    if (full || !seg.fits(bytes) || seg.codec.id !== this.newCodec.id) {
      seg = await this.rollover(seg);
    }
    return seg.writeFrame(recs, sizes, bytes);
  }

  /** Syncs the full segment, then creates the next: the old one is durable before the new one is used. */
  private async rollover(old: Segment): Promise<Segment> {
    try {
      await this.opts.fs.fdatasync(old.fd);
      this.syncs++;
    } catch (err) {
      throw this.fail('sync before rollover', err);
    }
    old.syncedOffset = old.writeOffset;
    this.commit.markDurable(old.lastIndex);
    const next = await this.create(old.lastIndex + 1);
    this.segments.push(next);
    return next;
  }

  private async create(firstIndex: number): Promise<Segment> {
    const id = Math.max(...this.segments.map((s) => s.id)) + 1;
    try {
      return await createSegment(this.dir, this.opts, id, firstIndex, this.newCodec);
    } catch (err) {
      throw this.fail('segment creation', err);
    }
  }

  /** One group-commit sync of the current segment: returns the index it made durable. */
  private async syncCurrent(): Promise<number> {
    const seg = this.segments.at(-1) as Segment;
    const goal = seg.lastIndex;
    const offset = seg.writeOffset;
    await this.opts.fs.fdatasync(seg.fd);
    this.syncs++;
    if (offset > seg.syncedOffset) seg.syncedOffset = offset;
    return goal;
  }

  private async dropFront(n: number): Promise<number> {
    if (n <= 0) return 0;
    await this.commit.idle();
    const gone = this.segments.slice(0, n);
    try {
      for (const s of gone) await this.opts.fs.unlink(s.path);
      await this.opts.fs.fsyncDir(this.dir);
    } catch (err) {
      throw this.fail('segment deletion', err);
    }
    this.segments = this.segments.slice(n);
    this.notifyTails();
    await Promise.all(gone.map((s) => this.opts.fs.close(s.fd).catch(() => {})));
    return n;
  }

  /** Drops entries >= `from` by creating a superseding segment, then deleting what it covers. */
  private async supersedeFrom(from: number): Promise<void> {
    await this.commit.idle();
    const next = await this.create(from);
    const doomed = this.segments.filter((s) => s.firstIndex >= from);
    try {
      for (const s of doomed) await this.opts.fs.unlink(s.path);
      if (doomed.length > 0) await this.opts.fs.fsyncDir(this.dir);
    } catch (err) {
      throw this.fail('segment deletion', err);
    }
    const kept = this.segments.filter((s) => s.firstIndex < from);
    for (const s of kept) if (s.lastIndex >= from) s.truncateAfter(from - 1);
    this.segments = [...kept, next];
    this.commit.lowerTo(from - 1);
    this.notifyTails();
    await Promise.all(doomed.map((s) => this.opts.fs.close(s.fd).catch(() => {})));
  }
}
