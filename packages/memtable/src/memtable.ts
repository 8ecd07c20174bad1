import { describe, type KeyRange, KvError, type KvRecord } from '@kv/record';
import { checkKey, keyString } from './key-string.js';
import { type MemtableOptions, type ResolvedMemtableOptions, resolveMemtableOptions } from './options.js';
import { scanBounds, scanTree } from './range-scan.js';
import { type MemtableSnapshot, TreeSnapshot } from './snapshot.js';
import { SortedSnapshot, scanSorted } from './sorted-scan.js';
import { newRecordTree, type RecordTree } from './tree.js';

/**
 * Bytes charged per record on top of its key and value bytes, so that many small records
 * still fill a memtable. It is the memtable's own heap cost per entry (the latin1 key
 * string, a Map entry, a tree slot), measured at ~94 bytes with 16-byte keys on Node 20.
 * The caller's KvRecord and its buffers are not included: see the README.
 */
export const MEMTABLE_ENTRY_OVERHEAD_BYTES = 96;

/** What one stored record counts towards `byteSize`. */
export function entryBytes(rec: KvRecord): number {
  return rec.key.length + rec.value.length + MEMTABLE_ENTRY_OVERHEAD_BYTES;
}

/**
 * The sorted in-memory table: the newest version of each key, by sequence number, in
 * bytewise key order. Point reads go to a Map (O(1)); ordered reads go to a copy-on-write
 * B+ tree holding the same records, which also makes snapshots O(1).
 *
 * Records are held by reference: a caller must not mutate a record, or the bytes of its
 * key and value, after putting it (copy views of reused buffers first).
 */
export class Memtable {
  readonly #options: ResolvedMemtableOptions;
  /** Point-read index: every record. #tree holds the same records once caught up (#pending empty). */
  readonly #index = new Map<string, KvRecord>();
  readonly #tree: RecordTree = newRecordTree();
  /**
   * Keys put since the tree was last brought up to date: puts touch only the Map, and the
   * first ordered read sorts these and inserts them in order. A B+ tree insert costs ~2 µs
   * at random positions; a Map set ~0.1 µs, and sorted inserts are cache-friendly.
   */
  #pending: string[] = [];
  /** A frozen memtable's keys, sorted once; it is read in order without building the tree. */
  #sorted: string[] | undefined;
  #byteSize = 0;
  #maxSeq = 0;
  /** Smallest seq held, unless #minSeqStale: then the record that held it was replaced. */
  #minSeq = 0;
  #minSeqStale = false;
  #frozen = false;

  constructor(options?: MemtableOptions) {
    this.#options = resolveMemtableOptions(options);
  }

  /**
   * Stores `rec` unless the memtable already holds a record for its key with the same or a
   * higher seq, in which case `rec` is ignored: replaying a WAL twice changes nothing.
   * Tombstones are stored like values, to shadow older versions in tables.
   */
  put(rec: KvRecord): void {
    if (this.#frozen) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        'put on a frozen memtable: it is being flushed; write to a new memtable',
      );
    }
    checkRecord(rec);
    const key = keyString(rec.key);
    const old = this.#index.get(key);
    if (old !== undefined) {
      if (rec.seq <= old.seq) return;
      this.#byteSize -= entryBytes(old);
      if (old.seq === this.#minSeq) this.#minSeqStale = true;
    } else if (this.#index.size === 0 || rec.seq < this.#minSeq) {
      this.#minSeq = rec.seq;
    }
    if (rec.seq > this.#maxSeq) this.#maxSeq = rec.seq;
    this.#pending.push(key);
    this.#index.set(key, rec);
    this.#byteSize += entryBytes(rec);
  }

  /** The record stored for `key`, tombstones included (check `.tombstone`); undefined if none. O(1). */
  get(key: Uint8Array): KvRecord | undefined {
    checkKey(key);
    return this.#index.get(keyString(key));
  }

  /** Number of records held, tombstones included. */
  get count(): number {
    return this.#index.size;
  }

  /** Sum of `entryBytes` over the records held. */
  get byteSize(): number {
    return this.#byteSize;
  }

  get thresholdBytes(): number {
    return this.#options.thresholdBytes;
  }

  /** True once `byteSize >= thresholdBytes`: time to freeze and flush. */
  get isFull(): boolean {
    return this.#byteSize >= this.#options.thresholdBytes;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /**
   * Smallest seq among the records held; 0 when empty. O(1), except the first read after
   * the record holding the minimum was overwritten, which scans the records once.
   */
  get minSeq(): number {
    if (this.#minSeqStale) {
      let min = Number.POSITIVE_INFINITY;
      for (const rec of this.#index.values()) if (rec.seq < min) min = rec.seq;
      this.#minSeq = min;
      this.#minSeqStale = false;
    }
    return this.#index.size === 0 ? 0 : this.#minSeq;
  }

  /** Largest seq among the records held; 0 when empty. */
  get maxSeq(): number {
    return this.#maxSeq;
  }

  #sortedKeys(): string[] {
    // The default sort compares UTF-16 code units: for latin1 key strings, bytewise order.
    this.#sorted ??= [...this.#index.keys()].sort();
    this.#pending = [];
    return this.#sorted;
  }

  /** Brings the tree up to date with the Map: sorted inserts of every key put since last time. */
  #catchUp(): void {
    if (this.#pending.length === 0) return;
    // The default sort compares UTF-16 code units: for latin1 key strings, bytewise order.
    const keys = this.#pending.sort();
    this.#pending = [];
    let previous: string | undefined;
    for (const key of keys) {
      if (key === previous) continue;
      previous = key;
      this.#tree.set(key, this.#index.get(key) as KvRecord);
    }
  }

  /** Makes the memtable read-only for good (it is being flushed); later puts throw. Idempotent. */
  freeze(): void {
    this.#frozen = true;
  }

  /**
   * A view of the records held now, unaffected by later puts. O(1): the tree is cloned
   * copy-on-write, so later puts copy the nodes they touch instead. A snapshot of a live
   * memtable answers `get` from its tree (O(log n)); one of a frozen memtable shares its map.
   */
  snapshot(): MemtableSnapshot {
    if (this.#frozen) return new SortedSnapshot(this.#sortedKeys(), this.#index);
    this.#catchUp();
    return new TreeSnapshot(this.#tree.clone(), undefined);
  }

  /**
   * Records in ascending bytewise key order, or descending with `range.reverse`, lazily,
   * within the range's bounds. The iterator sees the memtable as it was at this call
   * (puts made while iterating are not seen and do not disturb it).
   */
  entries(range?: KeyRange): IterableIterator<KvRecord> {
    const bounds = scanBounds(range);
    if (this.#frozen) return scanSorted(this.#sortedKeys(), this.#index, bounds);
    this.#catchUp();
    return scanTree(this.#tree.clone(), bounds);
  }
}

function checkRecord(rec: KvRecord): void {
  if (rec === null || typeof rec !== 'object') throw new TypeError(`put needs a KvRecord, got ${describe(rec)}`);
  checkKey(rec.key, 'record key');
  checkKey(rec.value, 'record value');
  if (!Number.isSafeInteger(rec.seq) || rec.seq < 0) {
    throw new TypeError(`record seq must be a non-negative safe integer, got ${String(rec.seq)}`);
  }
}
