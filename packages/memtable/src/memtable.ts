import { describe, type KeyRange, KvError, type KvRecord } from '@kv/record';
import { RecordArena } from './arena.js';
import { checkKey } from './key-string.js';
import { KeyIndex } from './key-index.js';
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
    if (this.#frozen) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        'put on a frozen memtable: it is being flushed; write to a new memtable',
      );
    }
    checkRecord(rec);
    const index = this.#index;
    const h = index.hash(rec.key);
    const slot = index.slotOf(rec.key, h);
    const old = index.idAt(slot);
    if (old >= 0) {
      const oldSeq = this.#arena.seq(old);
      if (rec.seq <= oldSeq) return;
      this.#byteSize -= this.#arena.dataBytes(old) + MEMTABLE_ENTRY_OVERHEAD_BYTES;
      if (oldSeq === this.#minSeq) this.#minSeqStale = true;
    } else if (index.size === 0 || rec.seq < this.#minSeq) {
      this.#minSeq = rec.seq;
    }
    if (rec.seq > this.#maxSeq) this.#maxSeq = rec.seq;
    const bytes = entryBytes(rec);
    this.#byteSize += bytes;
    this.#storedBytes += bytes;
    index.set(slot, this.#arena.append(rec), h);
  }

  /** The record stored for `key`, tombstones included (check `.tombstone`); undefined if none. O(1). */
  get(key: Uint8Array): KvRecord | undefined {
    checkKey(key);
    const id = this.#index.get(key);
    return id < 0 ? undefined : this.#arena.record(id);
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
  const ids = new Uint32Array(n);
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
