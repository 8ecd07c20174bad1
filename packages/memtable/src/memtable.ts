import {
  DEFAULT_RECORD_LIMITS,
  describe,
  type KeyRange,
  KvError,
  type KvRecord,
  RecordHeader,
  type RecordLimits,
  readRecordHeader,
} from '@kv/record';
import { RecordArena, recordFlags } from './arena.js';
import { checkKey } from './key-string.js';
import { KeyIndex } from './key-index.js';
import { zeroedBuffer } from './large.js';
import { type MemtableOptions, type ResolvedMemtableOptions, resolveMemtableOptions } from './options.js';
import { scanBounds, scanTree } from './range-scan.js';
import { type MemtableSnapshot, TreeSnapshot } from './snapshot.js';
import { SortedSnapshot, scanSorted, sortIds } from './sorted-scan.js';
import { newRecordTree, type RecordTree } from './tree.js';

/**
 * Bytes charged per record version on top of its key and value bytes, so that many small
 * records still fill a memtable. It covers the memtable's own cost per version: 32 bytes of
 * fields in the arena, 16-32 bytes of index slot, and, once the live memtable is
 * read in order, the tree's key string and slot.
 */
export const MEMTABLE_ENTRY_OVERHEAD_BYTES = 96;

/** Records putEncoded reads ahead: its index probes are issued this many at a time. */
const BATCH = 256;
const HEADER = new RecordHeader();
const B_KEY = new Uint32Array(BATCH);
const B_KEY_LENGTH = new Uint32Array(BATCH);
const B_VALUE_LENGTH = new Uint32Array(BATCH);
const B_SEQ = new Float64Array(BATCH);
const B_TIMESTAMP = new Float64Array(BATCH);
const B_FLAGS = new Uint8Array(BATCH);
const B_HASH = new Uint32Array(BATCH);

function encodedCorruption(i: number, why: string): KvError {
  return new KvError('KV_CORRUPTION', `encoded record ${i}: ${why}`);
}

/** Reads the header of encoded record `i` into `h`; returns the KV_CORRUPTION it has, if any. */
function readEncoded(
  bytes: Uint8Array,
  spans: Uint32Array,
  i: number,
  limits: RecordLimits,
  h: RecordHeader,
): KvError | undefined {
  const start = spans[2 * i] as number;
  const end = spans[2 * i + 1] as number;
  if (!(start <= end && end <= bytes.length)) {
    return encodedCorruption(i, `span [${start}, ${end}) is outside the ${bytes.length} bytes given`);
  }
  try {
    readRecordHeader(bytes, start, end, limits, h);
  } catch (err) {
    return encodedCorruption(i, (err as Error).message);
  }
  if (h.size !== end - start) return encodedCorruption(i, `${h.size} bytes decoded from a span of ${end - start}`);
  return undefined;
}

/** What one stored record counts towards `byteSize`. */
export function entryBytes(rec: KvRecord): number {
  return rec.key.length + rec.value.length + MEMTABLE_ENTRY_OVERHEAD_BYTES;
}

/**
 * The sorted in-memory table: the newest version of each key, by sequence number, in
 * bytewise key order. Records are copied into an arena (byte chunks and typed arrays, no
 * object per record); point reads go through a hash index over it (O(1)); ordered reads of
 * a live memtable go to a copy-on-write B+ tree of ids, built lazily, which also makes
 * snapshots O(1); a frozen memtable is read in order from its ids sorted once.
 *
 * Records are copied on put, so the caller may reuse its buffers. Records handed out are
 * views of the arena: do not mutate their bytes.
 */
export class Memtable {
  readonly #options: ResolvedMemtableOptions;
  readonly #arena = new RecordArena();
  readonly #index = new KeyIndex(this.#arena);
  /** Key string -> id, for ordered reads of the live memtable; holds versions below #treeUpTo. */
  readonly #tree: RecordTree = newRecordTree();
  /**
   * Versions with ids from here on are not in the tree yet: puts touch only the arena and the
   * index, and the first ordered read sorts the new ids and inserts them in order. A B+ tree
   * insert costs ~2 µs at random positions; sorted inserts are cache-friendly, and a memtable
   * nobody iterates (WAL replay, write-only loads) never builds the tree.
   */
  #treeUpTo = 0;
  /** A frozen memtable's newest ids in key order, sorted once; it is read without the tree. */
  #sorted: Uint32Array | undefined;
  #byteSize = 0;
  #storedBytes = 0;
  #maxSeq = 0;
  /** Smallest seq held, unless #minSeqStale: then the record that held it was replaced. */
  #minSeq = 0;
  #minSeqStale = false;
  /** Smallest seq of every version stored, replaced ones included (Infinity when none). */
  #minStoredSeq = Number.POSITIVE_INFINITY;
  #frozen = false;

  constructor(options?: MemtableOptions) {
    this.#options = resolveMemtableOptions(options);
  }

  /**
   * Stores a copy of `rec` unless the memtable already holds a record for its key with the
   * same or a higher seq, in which case `rec` is ignored: replaying a WAL twice changes
   * nothing. Tombstones are stored like values, to shadow older versions in tables.
   */
  put(rec: KvRecord): void {
    this.#checkWritable('put');
    checkRecord(rec);
    const index = this.#index;
    const h = index.hash(rec.key);
    const slot = index.slotOf(rec.key, h);
    if (this.#admit(slot, rec.seq, rec.key.length + rec.value.length)) index.set(slot, this.#arena.append(rec), h);
  }

  /**
   * Stores records encoded in @kv/record's binary layout, as `put` would store each decoded:
   * record `i` lies at [spans[2i], spans[2i + 1]) of `bytes`, and records `from` to `to - 1`
   * are stored in order. Stops after the record that makes the memtable full, and returns
   * the index after the last record it took (`to` if it took them all). What WAL replay
   * calls, with no object per record.
   *
   * Headers are checked (KV_CORRUPTION naming the record otherwise; the records before it
   * are stored), checksums are not: the caller verified the bytes (the WAL checks every
   * frame at open). With `adopt`, keys and values are not copied but read where they lie:
   * `bytes` must then never change while this memtable lives.
   */
  putEncoded(
    bytes: Uint8Array,
    spans: Uint32Array,
    from: number,
    to: number,
    options: { adopt?: boolean; limits?: RecordLimits } = {},
  ): number {
    this.#checkWritable('putEncoded');
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes must be a Uint8Array, got ${describe(bytes)}`);
    if (!(spans instanceof Uint32Array)) throw new TypeError(`spans must be a Uint32Array, got ${describe(spans)}`);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from || 2 * to > spans.length) {
      throw new RangeError(`records [${from}, ${to}) are outside the ${spans.length >>> 1} spans given`);
    }
    const limits = options.limits ?? DEFAULT_RECORD_LIMITS;
    const arena = this.#arena;
    const index = this.#index;
    const chunk = options.adopt === true ? arena.adopt(bytes) : -1;
    const h = HEADER;
    for (let first = from; first < to; first += BATCH) {
      let n = Math.min(BATCH, to - first);
      let failure: KvError | undefined;
      // Pass 1: check each header and hash each key in place; pass 2: load the index slots
      // the hashes point at, all at once; pass 3: insert, into mostly cached slots.
      for (let j = 0; j < n; j++) {
        failure = readEncoded(bytes, spans, first + j, limits, h);
        if (failure !== undefined) {
          n = j; // the records before it are stored, then the failure is thrown
          break;
        }
        B_KEY[j] = h.keyStart;
        B_KEY_LENGTH[j] = h.keyLength;
        B_VALUE_LENGTH[j] = h.valueLength;
        B_SEQ[j] = h.seq;
        B_TIMESTAMP[j] = h.timestamp;
        B_FLAGS[j] = recordFlags(h.type, h.tombstone);
        B_HASH[j] = index.hashAt(bytes, h.keyStart, h.keyStart + h.keyLength);
      }
      index.touch(B_HASH, n);
      for (let j = 0; j < n; j++) {
        const key = B_KEY[j] as number;
        const keyLength = B_KEY_LENGTH[j] as number;
        const valueLength = B_VALUE_LENGTH[j] as number;
        const seq = B_SEQ[j] as number;
        const hash = B_HASH[j] as number;
        const slot = index.slotOfAt(bytes, key, keyLength, hash);
        if (this.#admit(slot, seq, keyLength + valueLength)) {
          const timestamp = B_TIMESTAMP[j] as number;
          const flags = B_FLAGS[j] as number;
          const id =
            chunk >= 0
              ? arena.appendAt(chunk, key, keyLength, valueLength, seq, timestamp, flags)
              : arena.appendCopy(bytes, key, keyLength, valueLength, seq, timestamp, flags);
          index.set(slot, id, hash);
          if (this.isFull) return first + j + 1;
        }
      }
      if (failure !== undefined) throw failure;
    }
    return to;
  }

  /**
   * Sizes the index and the arena for `records` records now, so that storing that many does
   * not grow them step by step: each step rehashes the whole index, which at millions of
   * records costs as much as the inserts. WAL replay knows how many records are coming.
   */
  reserve(records: number): void {
    if (!Number.isSafeInteger(records) || records < 0) {
      throw new TypeError(`reserve takes a non-negative integer, got ${describe(records)}`);
    }
    this.#index.reserve(records);
    this.#arena.reserve(records);
  }

  #checkWritable(what: string): void {
    if (this.#frozen) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        `${what} on a frozen memtable: it is being flushed; write to a new memtable`,
      );
    }
  }

  /**
   * Accounts for a version of `dataBytes` key and value bytes with `seq`, about to go into
   * `slot` (from slotOf): false, changing nothing, when the version there has the same or a
   * higher seq (replaying a WAL twice changes nothing).
   */
  #admit(slot: number, seq: number, dataBytes: number): boolean {
    const old = this.#index.idAt(slot);
    if (old >= 0) {
      const oldSeq = this.#arena.seq(old);
      if (seq <= oldSeq) return false;
      this.#byteSize -= this.#arena.dataBytes(old) + MEMTABLE_ENTRY_OVERHEAD_BYTES;
      if (oldSeq === this.#minSeq) this.#minSeqStale = true;
    } else if (this.#index.size === 0 || seq < this.#minSeq) {
      this.#minSeq = seq;
    }
    if (seq > this.#maxSeq) this.#maxSeq = seq;
    if (seq < this.#minStoredSeq) this.#minStoredSeq = seq;
    const bytes = dataBytes + MEMTABLE_ENTRY_OVERHEAD_BYTES;
    this.#byteSize += bytes;
    this.#storedBytes += bytes;
    return true;
  }

  /** The record stored for `key`, tombstones included (check `.tombstone`); undefined if none. O(1). */
  get(key: Uint8Array): KvRecord | undefined {
    checkKey(key);
    const id = this.#index.get(key);
    return id < 0 ? undefined : this.#arena.record(id);
  }

  /**
   * What a get of `key` finds here: a copy of its value (the caller's to keep and write
   * to), null for a tombstone, or undefined when the memtable has no record for it. Builds
   * no record: the engine's get, which must hand out copies.
   */
  getValue(key: Uint8Array): Uint8Array | null | undefined {
    checkKey(key);
    const id = this.#index.get(key);
    return id < 0 ? undefined : this.#arena.valueCopy(id);
  }

  /** Number of records held, tombstones included. */
  get count(): number {
    return this.#index.size;
  }

  /** Sum of `entryBytes` over the records held (replaced versions not counted). */
  get byteSize(): number {
    return this.#byteSize;
  }

  /**
   * Sum of `entryBytes` over every version stored, replaced ones included: the arena keeps a
   * replaced version's bytes (a snapshot may still read them) until the memtable is dropped.
   */
  get storedBytes(): number {
    return this.#storedBytes;
  }

  get thresholdBytes(): number {
    return this.#options.thresholdBytes;
  }

  /** True once `storedBytes >= thresholdBytes`: time to freeze and flush. */
  get isFull(): boolean {
    return this.#storedBytes >= this.#options.thresholdBytes;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /**
   * Smallest seq among the records held; 0 when empty. O(1), except the first read after
   * the record holding the minimum was overwritten, which scans the index once.
   */
  get minSeq(): number {
    if (this.#minSeqStale) {
      let min = Number.POSITIVE_INFINITY;
      const newest = this.#index.newest();
      for (let id = 0; id < newest.length; id++) if (newest[id] === 1) min = Math.min(min, this.#arena.seq(id));
      this.#minSeq = min;
      this.#minSeqStale = false;
    }
    return this.#index.size === 0 ? 0 : this.#minSeq;
  }

  /**
   * Smallest seq of every version stored, replaced ones included; 0 when empty. This, not
   * `minSeq`, is what a WAL holding this memtable's writes must keep: if the write that
   * replaced a version is lost in a crash (not yet synced), the replaced version, durable
   * in the WAL, is the one to recover.
   */
  get minStoredSeq(): number {
    return this.#minStoredSeq === Number.POSITIVE_INFINITY ? 0 : this.#minStoredSeq;
  }

  /** Largest seq among the records held; 0 when empty. */
  get maxSeq(): number {
    return this.#maxSeq;
  }

  #sortedIds(): Uint32Array {
    this.#sorted ??= sortIds(this.#arena, liveIds(this.#index.newest()));
    return this.#sorted;
  }

  /** Brings the tree up to date: sorted inserts of the newest version of every key put since last time. */
  #catchUp(): void {
    const arena = this.#arena;
    const end = arena.count;
    if (this.#treeUpTo === end) return;
    const fresh: number[] = [];
    // A version replaced by a later put in the same range is skipped; the later one is inserted.
    for (let id = this.#treeUpTo; id < end; id++) {
      if (this.#index.get(arena.key(id)) === id) fresh.push(id);
    }
    this.#treeUpTo = end;
    fresh.sort((a, b) => arena.compareKeys(a, b));
    for (const id of fresh) this.#tree.set(arena.keyString(id), id);
  }

  /** Makes the memtable read-only for good (it is being flushed); later puts throw. Idempotent. */
  freeze(): void {
    this.#frozen = true;
  }

  /**
   * A view of the records held now, unaffected by later puts. O(1): the tree is cloned
   * copy-on-write, so later puts copy the nodes they touch instead. A snapshot of a live
   * memtable answers `get` from its tree (O(log n)); one of a frozen memtable shares its index.
   */
  snapshot(): MemtableSnapshot {
    if (this.#frozen) return new SortedSnapshot(this.#sortedIds(), this.#arena, this.#index);
    this.#catchUp();
    return new TreeSnapshot(this.#tree.clone(), this.#arena);
  }

  /**
   * Records in ascending bytewise key order, or descending with `range.reverse`, lazily,
   * within the range's bounds. The iterator sees the memtable as it was at this call
   * (puts made while iterating are not seen and do not disturb it).
   */
  entries(range?: KeyRange): IterableIterator<KvRecord> {
    const bounds = scanBounds(range);
    if (this.#frozen) return scanSorted(this.#sortedIds(), this.#arena, bounds);
    this.#catchUp();
    return scanTree(this.#tree.clone(), this.#arena, bounds);
  }
}

/** Ids of the versions marked in `marks`, in ascending order (so their bytes are read in order). */
function liveIds(marks: Uint8Array): Uint32Array {
  let n = 0;
  for (const m of marks) n += m;
  const ids = new Uint32Array(zeroedBuffer(4 * n));
  let j = 0;
  for (let id = 0; id < marks.length; id++) if (marks[id] === 1) ids[j++] = id;
  return ids;
}

function checkRecord(rec: KvRecord): void {
  if (rec === null || typeof rec !== 'object') throw new TypeError(`put needs a KvRecord, got ${describe(rec)}`);
  checkKey(rec.key, 'record key');
  checkKey(rec.value, 'record value');
  if (!Number.isSafeInteger(rec.seq) || rec.seq < 0) {
    throw new TypeError(`record seq must be a non-negative safe integer, got ${String(rec.seq)}`);
  }
}
