import * as path from 'node:path';
import { describe, encodedSize, encodeRecordInto, ioError, type KvRecord } from '@kv/record';
import { codecFor } from './entry-codec.js';
import { CODEC_IDS } from './format.js';
import { acquireDirLock } from './lock.js';
import { LogCore } from './log-core.js';
import { resolveWalOptions, type WalOptions } from './options.js';
import { type RecoveryReport, recover } from './recovery.js';
import type { Segment } from './segment.js';
import { createSegment, prepareTail } from './segment-file.js';
import type { TransactionOptions } from './transactions.js';

export interface WalEntry {
  index: number;
  record: KvRecord;
}

/**
 * Consecutive entries of the log as encoded records (the binary layout of @kv/record's
 * FORMAT.md), for a consumer that parses them in place: entry `i` of the run, with index
 * `firstIndex + i`, is the record at bytes [spans[2i], spans[2i + 1]) of `bytes`.
 */
export interface EncodedRun {
  firstIndex: number;
  count: number;
  bytes: Uint8Array;
  /** Reused by the next run: read it before asking for the next one. */
  spans: Uint32Array;
  /**
   * True when `bytes` is the segment's mapping. Those bytes are never written again while
   * the mapping lives (the log only writes past its last entry, drops entries by starting a
   * new segment, and deletes whole files; the mapping outlives the file until nothing
   * references it), so a consumer may keep views of them; so it is for entries re-encoded
   * from a JSON segment, into a buffer of their own. False when `bytes` holds frames not yet
   * written to the file, a buffer the log reuses: copy what you keep.
   */
  stable: boolean;
}

/** Entries per run of `Wal.encodedRuns`. */
const RUN_ENTRIES = 4096;

export interface WalStats {
  segments: number;
  firstIndex: number;
  lastIndex: number;
  durableIndex: number;
  buffered: number;
  pendingTransactions: number;
  syncs: number;
  /**
   * The segment prepared ahead of the next rollover: 'none' (not started: the current one is
   * under a quarter full, or the option is off), 'preparing', 'ready', or 'failed' (the log
   * failed with it).
   */
  nextSegment: 'none' | 'preparing' | 'ready' | 'failed';
  recovery: RecoveryReport;
}

/**
 * A segmented, memory-mapped write-ahead log. Writes are serialized and return promises that
 * resolve once the entry is durable under `sync`; reads are synchronous. Every public method
 * first checks that the log is open and has not failed: after an I/O error no later write is
 * acknowledged until the log is reopened. See ../README.md and ../FORMAT.md.
 */
export class Wal extends LogCore {
  /** Opens (creating if needed) the log in `dir`, recovering and verifying every segment. */
  static async open(dir: string, options?: WalOptions): Promise<Wal> {
    if (typeof dir !== 'string' || dir === '')
      throw new TypeError(`dir must be a non-empty string, got ${describe(dir)}`);
    const opts = resolveWalOptions(options);
    try {
      await opts.fs.mkdir(dir);
      // The directory's own entry must be durable too, or a power cut can lose the whole log.
      await opts.fs.fsyncDir(path.dirname(path.resolve(dir)));
      await opts.fs.fsyncDir(dir);
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

  /**
   * Lazily yields entries with indices in [start, end), by default all of them. Frames were
   * verified when the log was opened or written; `verify: true` checks every entry's own
   * checksum again against the bytes now on disk (what `wal verify` wants), at some cost.
   * `views: true` yields records whose key and value are views of the log's own bytes instead
   * of copies: valid only until the next call on the log, for a consumer that copies them at
   * once (the engine's replay into its memtable saves a copy per entry).
   */
  *entries(
    start = this.firstIndex,
    end = this.lastIndex + 1,
    options: { verify?: boolean; views?: boolean } = {},
  ): IterableIterator<WalEntry> {
    this.guardOpen();
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end))
      throw new TypeError('entries: indices must be integers');
    if (start < this.firstIndex || end > this.lastIndex + 1 || end < start) {
      throw new RangeError(`entries: [${start}, ${end}) is outside [${this.firstIndex}, ${this.lastIndex + 1})`);
    }
    let index = start;
    while (index < end) {
      const seg = this.segmentOf(index);
      const stop = Math.min(end, seg.lastIndex + 1);
      for (; index < stop; index++) {
        this.guardOpen();
        yield { index, record: seg.read(index, this.opts.limits, options.verify === true, options.views === true) };
      }
    }
  }

  /**
   * Entries with indices in [start, end) as runs of encoded records, without a KvRecord or
   * a copy per entry: what the engine's replay reads. Like `entries`, frames were verified
   * when the log was opened or written, and entries' own checksums are not checked again.
   * The run object is reused: read it before the next step.
   */
  *encodedRuns(start = this.firstIndex, end = this.lastIndex + 1): IterableIterator<EncodedRun> {
    this.guardOpen();
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end))
      throw new TypeError('encodedRuns: indices must be integers');
    if (start < this.firstIndex || end > this.lastIndex + 1 || end < start) {
      throw new RangeError(`encodedRuns: [${start}, ${end}) is outside [${this.firstIndex}, ${this.lastIndex + 1})`);
    }
    const run: EncodedRun = {
      firstIndex: start,
      count: 0,
      bytes: new Uint8Array(0),
      spans: new Uint32Array(2 * RUN_ENTRIES),
      stable: false,
    };
    let index = start;
    while (index < end) {
      this.guardOpen();
      const seg = this.segmentOf(index);
      const max = Math.min(RUN_ENTRIES, end - index);
      run.firstIndex = index;
      run.count =
        seg.codec.id === CODEC_IDS.binary
          ? seg.fillRun(index, max, run.spans, run)
          : this.reencode(seg, index, max, run);
      index += run.count;
      yield run;
    }
  }

  /** Fills `run` with up to `max` entries of a JSON segment, re-encoded as binary records. */
  private reencode(seg: Segment, index: number, max: number, run: EncodedRun): number {
    const n = Math.min(max, seg.lastIndex + 1 - index);
    const records: KvRecord[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const rec = seg.read(index + i, this.opts.limits);
      records.push(rec);
      bytes += encodedSize(rec);
    }
    const buf = new Uint8Array(bytes);
    let at = 0;
    for (let i = 0; i < n; i++) {
      run.spans[2 * i] = at;
      at += encodeRecordInto(records[i] as KvRecord, buf, at);
      run.spans[2 * i + 1] = at;
    }
    run.bytes = buf;
    run.stable = true;
    return n;
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
      nextSegment: this.spareState,
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
      await this.discardSpare();
      if (this.failure === null) {
        const last = this.segments.at(-1) as Segment;
        this.flushPending(last, 'write on close');
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
}
