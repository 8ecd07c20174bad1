import { checkRecordLimits, describe, ioError, KvError, KvRecord } from '@kv/record';
import { codecFor, type EntryCodec } from './entry-codec.js';
import { CODEC_IDS, frameBytes, SEGMENT_HEADER_BYTES } from './format.js';
import { GroupCommit } from './group-commit.js';
import type { DirLock } from './lock.js';
import type { ResolvedWalOptions } from './options.js';
import type { RecoveryReport } from './recovery.js';
import { Transactions } from './transactions.js';
import type { Segment } from './segment.js';
import { createSegment, finishSegment, prepareSpare, type SpareFile } from './segment-file.js';

/**
 * State, guards and the write path of a WAL: serialized writes into mapped segments,
 * rollover, group-commit syncs, and segment deletion. `Wal` adds the public API.
 */
export abstract class LogCore {
  protected segments: Segment[];
  protected readonly commit: GroupCommit;
  protected readonly newCodec: EntryCodec;
  protected queue: Promise<unknown> = Promise.resolve();
  protected buffer: KvRecord[] = [];
  protected failure: KvError | null = null;
  protected closed = false;
  protected syncs = 0;
  protected readonly transactions: Transactions;
  protected changeWaiters: (() => void)[] = [];
  /** The next segment's file, being prepared or ready (null inside: preparing it failed or stopped). */
  protected spare: Promise<SpareFile | null> | null = null;
  protected spareState: 'none' | 'preparing' | 'ready' | 'failed' = 'none';

  protected constructor(
    readonly dir: string,
    protected readonly opts: ResolvedWalOptions,
    protected readonly lock: DirLock,
    segments: Segment[],
    readonly recoveryReport: RecoveryReport,
  ) {
    this.segments = segments;
    this.writeSync = opts.fs.writeSync?.bind(opts.fs);
    this.coalesce = opts.sync === 'always' && this.writeSync !== undefined;
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

  get segmentCount(): number {
    this.guardOpen();
    return this.segments.length;
  }
  /**
   * Index of the newest entry of the live segment at position `i` (0 = oldest live), or its
   * first index - 1 while it is empty. With `segmentCount`, it tells which entries
   * `truncateFront` can drop without reading any. RangeError outside [0, segmentCount).
   */
  segmentLastIndex(i: number): number {
    this.guardOpen();
    this.checkPosition('segmentLastIndex', i, this.segments.length - 1);
    return (this.segments[i] as Segment).lastIndex;
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

  // ---- write path and guards ----

  protected guardOpen(): void {
    if (this.closed) throw new KvError('KV_NOT_OPEN', `the WAL in ${this.dir} is closed; open it again to use it`);
  }

  protected guardWrite(): void {
    this.guardOpen();
    if (this.failure !== null) throw this.failure;
  }

  protected fail(what: string, err: unknown): KvError {
    if (this.failure === null) this.failure = ioError(`WAL ${what} in ${this.dir}`, err);
    return this.failure;
  }

  protected check(rec: KvRecord): number {
    if (!(rec instanceof KvRecord)) throw new TypeError(`expected a KvRecord, got ${describe(rec)}`);
    checkRecordLimits(rec, this.opts.limits);
    return this.newCodec.sizeOf(rec);
  }

  protected checkPosition(what: string, i: number, max: number): void {
    if (!Number.isInteger(i) || i < 0 || i > max) {
      throw new RangeError(
        `${what}: position ${i} is out of bounds (0..${max}, ${this.segments.length} live segments)`,
      );
    }
  }

  protected checkIndexArg(what: string, index: number): void {
    if (typeof index !== 'number') throw new TypeError(`${what}: index must be a number, got ${describe(index)}`);
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`${what}: ${index} is not a valid index`);
  }

  protected segmentOf(index: number): Segment {
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
  protected exclusive<T>(op: () => Promise<T> | T): Promise<T> {
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
  protected async write(recs: readonly KvRecord[], atomic: boolean): Promise<number[]> {
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

  protected notifyTails(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }

  protected maxFrameBytes(): number {
    return this.opts.maxSegmentBytes - SEGMENT_HEADER_BYTES;
  }

  /** The seam's buffered write, bound once; undefined: appends copy into the mapping. */
  private readonly writeSync: ((fd: number, data: Uint8Array, position: number) => void) | undefined;
  /**
   * Under sync 'always' no append is acknowledged before a sync, so the frames written
   * between two syncs go to the file in one write just before the sync (a write system call
   * costs ~2.5 us, and a cohort of 64 frames is one call instead of 64).
   */
  private readonly coalesce: boolean;

  /** Writes the coalesced frames of `seg` to the file; a failure fails the log. */
  protected flushPending(seg: Segment, what: string): void {
    if (this.writeSync === undefined || seg.pendingLength === 0) return;
    try {
      seg.flushPending(this.writeSync);
    } catch (err) {
      throw this.fail(what, err);
    }
  }

  protected async writeFrame(recs: readonly KvRecord[], sizes: readonly number[], bytes: number): Promise<number> {
    let seg = this.segments.at(-1) as Segment;
    const full = seg.count > 0 && seg.count + recs.length > this.opts.maxRecordsPerSegment;
    if (full || !seg.fits(bytes) || seg.codec.id !== this.newCodec.id) {
      seg = await this.rollover(seg);
    }
    let first: number;
    try {
      first = seg.writeFrame(recs, sizes, bytes, this.writeSync, this.coalesce);
    } catch (err) {
      throw this.fail('write', err);
    }
    this.maybePrepareSpare(seg);
    return first;
  }

  /**
   * Once `seg` is a quarter full, starts preparing the segment that will follow it: early
   * enough that a log written at durable rates finds it ready, late enough that a store
   * that writes little never makes one.
   */
  private maybePrepareSpare(seg: Segment): void {
    if (this.spare !== null || !this.opts.prepareNextSegment) return;
    const quarter = seg.writeOffset * 4 >= this.opts.maxSegmentBytes || seg.count * 4 >= this.opts.maxRecordsPerSegment;
    if (!quarter) return;
    // Its failure fails the log, as the same error creating the segment at the rollover would:
    // a disk that is full or failing stops acknowledging writes at the first sign.
    this.spareState = 'preparing';
    this.spare = prepareSpare(this.dir, this.opts, () => !this.closed && this.failure === null).then(
      (spare) => {
        if (this.spare !== null) this.spareState = spare === null ? 'none' : 'ready';
        return spare;
      },
      (err: unknown) => {
        if (this.spare !== null) this.spareState = 'failed';
        this.fail('preparing the next segment', err);
        return null;
      },
    );
  }

  /** Closes and removes a prepared spare segment (at close). */
  protected async discardSpare(): Promise<void> {
    const spare = this.spare === null ? null : await this.spare;
    this.spare = null;
    this.spareState = 'none';
    if (spare === null) return;
    await this.opts.fs.close(spare.fd).catch(() => {});
    await this.opts.fs.unlink(spare.path).catch(() => {});
  }

  /** Syncs the full segment, then creates the next: the old one is durable before the new one is used. */
  protected async rollover(old: Segment): Promise<Segment> {
    this.flushPending(old, 'write');
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

  protected async create(firstIndex: number): Promise<Segment> {
    const id = Math.max(...this.segments.map((s) => s.id)) + 1;
    const spare = this.spare === null ? null : await this.spare;
    this.spare = null;
    this.spareState = 'none';
    try {
      if (spare !== null) return await finishSegment(this.dir, this.opts, spare, id, firstIndex, this.newCodec);
      return await createSegment(this.dir, this.opts, id, firstIndex, this.newCodec);
    } catch (err) {
      throw this.fail('segment creation', err);
    }
  }

  /** One group-commit sync of the current segment: returns the index it made durable. */
  protected async syncCurrent(): Promise<number> {
    const seg = this.segments.at(-1) as Segment;
    const goal = seg.lastIndex;
    const offset = seg.writeOffset;
    this.flushPending(seg, 'write');
    await this.opts.fs.fdatasync(seg.fd);
    this.syncs++;
    if (offset > seg.syncedOffset) seg.syncedOffset = offset;
    return goal;
  }

  protected async dropFront(n: number): Promise<number> {
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
    this.dropPages(gone);
    await Promise.all(gone.map((s) => this.opts.fs.close(s.fd).catch(() => {})));
    return n;
  }

  /** Drops entries >= `from` by creating a superseding segment, then deleting what it covers. */
  protected async supersedeFrom(from: number): Promise<void> {
    await this.commit.idle();
    for (const s of this.segments) this.flushPending(s, 'write');
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
    this.dropPages(doomed);
    await Promise.all(doomed.map((s) => this.opts.fs.close(s.fd).catch(() => {})));
  }

  /**
   * A deleted segment stays mapped until nothing references its mapping (a replayed memtable
   * may keep views of it), and each read had mapped in a page-cache folio (up to 1 MiB here):
   * give those pages back now. The views still read the same bytes.
   */
  private dropPages(segments: readonly Segment[]): void {
    const fs = this.opts.fs;
    for (const s of segments) {
      try {
        fs.dropPages?.(s.map); // called on the seam: a class-based one keeps its `this`
      } catch {
        // Only memory: the segment is already gone from the log.
      }
    }
  }
}
