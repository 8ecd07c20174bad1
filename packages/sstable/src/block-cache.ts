import { KvError } from '@kv/record';
import { BlockView } from './block.js';

export interface BlockCacheOptions {
  /**
   * Most bytes the cache may hold: `BlockCache.SLOT_BYTES` per cached block. A non-negative
   * safe integer; below one slot (0 included) the cache is disabled and tables opened with it
   * read as if they had none. Default 8 MiB (about 190,000 blocks, ~760 MB of 4 KiB blocks).
   */
  maxBytes?: number;
}

export const DEFAULT_BLOCK_CACHE_OPTIONS: Readonly<Required<BlockCacheOptions>> = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
});

export interface BlockCacheStats {
  /** Block lookups the cache answered. */
  hits: number;
  /** Block lookups it did not (the block was then verified, and cached). */
  misses: number;
  /** Blocks held now. */
  entries: number;
  /** Bytes held now: `entries * SLOT_BYTES`, at most `maxBytes`. */
  bytes: number;
  maxBytes: number;
  /** Blocks dropped to make room (not those dropped because their table closed). */
  evictions: number;
}

/** Verified-entry bits per cached block: entries 0..127 of a block are hashed once while it is cached. */
const MARK_WORDS = 4;
const NONE = -1;
/** Slot 0 is the sentinel of the recency list: next[HEAD] is the most recently used block, prev[HEAD] the least. */
const HEAD = 0;
const MIN_SLOTS = 64;

/**
 * One open table's share of a cache: per block of the table, the slot caching it, or -1. Each
 * `Table.open` attaches a new one, so a cached block belongs to (this open of the table, block
 * number): a table reopened at the same path, or another file there, never sees an earlier
 * open's blocks, and a closed table's blocks are dropped with its share.
 */
export class CachedTable {
  readonly slots: Int32Array;
  detached = false;

  constructor(blocks: number) {
    this.slots = new Int32Array(blocks).fill(NONE);
  }
}

/**
 * A least-recently-used cache of verified data blocks, bounded in bytes and shared by any
 * number of tables (`Table.open(path, { cache })`).
 *
 * What a block costs to read again is its verification, not its bytes (those stay in the
 * table's mapping and are never copied): a cached block is the trailer it verified (entry
 * count, shared-prefix length) and which of its entries have passed their checksum. A get
 * that hits skips the trailer read and the slot checksum, and the entry checksum when the
 * entry was read before; a scan that hits skips the slot checksum.
 *
 * The state is a handful of typed arrays indexed by slot, with the recency list threaded
 * through them: a hit allocates nothing and touches a few small arrays, a miss reuses the
 * least recently used slot, and no cached block is ever a garbage-collected object (an LRU
 * of objects churns the old generation on every eviction). Not thread-safe; every call is
 * synchronous.
 */
export class BlockCache {
  /**
   * Bytes per cached block: five Int32 lanes (recency links, block number, entry count,
   * shared prefix) = 20, verified-entry bits = 16, the owning table's reference = 8. Exact for
   * the arrays; their fixed headers and each attached table's slot map (4 bytes per block of
   * the table, cached or not) are not counted.
   */
  static readonly SLOT_BYTES = 5 * 4 + MARK_WORDS * 4 + 8;

  readonly maxBytes: number;
  /** Most blocks held: maxBytes / SLOT_BYTES. */
  readonly #capacity: number;
  #prev = new Int32Array(0);
  #next = new Int32Array(0);
  #block = new Int32Array(0);
  #count = new Int32Array(0);
  #shared = new Int32Array(0);
  #marks = new Int32Array(0);
  #owner: (CachedTable | undefined)[] = [];
  /** Slots handed out so far (1..#top); freed ones are on the #free list, linked through #next. */
  #top = 0;
  #free = NONE;
  #entries = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(options: BlockCacheOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const maxBytes = options.maxBytes ?? DEFAULT_BLOCK_CACHE_OPTIONS.maxBytes;
    if (typeof maxBytes !== 'number') throw new TypeError('maxBytes must be a number');
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new KvError('KV_INVALID_ARGUMENT', `maxBytes must be a non-negative safe integer, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
    this.#capacity = Math.min(Math.floor(maxBytes / BlockCache.SLOT_BYTES), 2 ** 31 - 2);
  }

  stats(): BlockCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      entries: this.#entries,
      bytes: this.#entries * BlockCache.SLOT_BYTES,
      maxBytes: this.maxBytes,
      evictions: this.#evictions,
    };
  }

  /** For `Table.open`: a share for a table of `blocks` blocks, or undefined when the cache is disabled. */
  attach(blocks: number): CachedTable | undefined {
    return this.#capacity === 0 ? undefined : new CachedTable(blocks);
  }

  /**
   * For `Table`: block `b` of `table` (at [start, start + length) of `bytes`), from the cache —
   * now its most recently used block — or verified now and cached. With `marks`, the view
   * skips and records verified entries in the cache: only for a view used by one synchronous
   * lookup, since the slot may hold another block once the caller lets go.
   */
  block(
    table: CachedTable,
    b: number,
    bytes: Uint8Array,
    start: number,
    length: number,
    path: string,
    marks: boolean,
  ): BlockView {
    let slot = table.slots[b] as number;
    let view: BlockView;
    if (slot !== NONE) {
      this.#hits++;
      this.#touch(slot);
      view = BlockView.verified(bytes, start, length, path, this.#count[slot] as number, this.#shared[slot] as number);
    } else {
      this.#misses++;
      view = BlockView.read(bytes, start, length, path);
      if (table.detached) return view;
      slot = this.#insert(table, b, view);
    }
    if (marks) view.useMarks(this.#marks, slot * MARK_WORDS, MARK_WORDS);
    return view;
  }

  /** For `Table.close` and a table that failed: drops all of `table`'s blocks and caches no more of them. */
  detach(table: CachedTable): void {
    if (table.detached) return;
    table.detached = true;
    const slots = table.slots;
    for (let b = 0; b < slots.length; b++) {
      const slot = slots[b] as number;
      if (slot === NONE) continue;
      slots[b] = NONE;
      this.#unlink(slot);
      this.#owner[slot] = undefined;
      this.#next[slot] = this.#free;
      this.#free = slot;
      this.#entries--;
    }
  }

  /** Caches `view` as block `b` of `table`, the most recently used, evicting the least if full. */
  #insert(table: CachedTable, b: number, view: BlockView): number {
    let slot: number;
    if (this.#entries === this.#capacity) {
      slot = this.#prev[HEAD] as number;
      this.#unlink(slot);
      (this.#owner[slot] as CachedTable).slots[this.#block[slot] as number] = NONE;
      this.#evictions++;
    } else {
      if (this.#free !== NONE) {
        slot = this.#free;
        this.#free = this.#next[slot] as number;
      } else {
        if (this.#top + 1 >= this.#prev.length) this.#grow();
        slot = ++this.#top;
      }
      this.#entries++;
    }
    this.#owner[slot] = table;
    this.#block[slot] = b;
    this.#count[slot] = view.count;
    this.#shared[slot] = view.shared;
    this.#marks.fill(0, slot * MARK_WORDS, (slot + 1) * MARK_WORDS);
    this.#linkFirst(slot);
    table.slots[b] = slot;
    return slot;
  }

  /** Makes `slot` the most recently used. */
  #touch(slot: number): void {
    if (this.#next[HEAD] === slot) return;
    this.#unlink(slot);
    this.#linkFirst(slot);
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot] as number;
    const next = this.#next[slot] as number;
    this.#next[prev] = next;
    this.#prev[next] = prev;
  }

  #linkFirst(slot: number): void {
    const first = this.#next[HEAD] as number;
    this.#prev[slot] = HEAD;
    this.#next[slot] = first;
    this.#prev[first] = slot;
    this.#next[HEAD] = slot;
  }

  /** Doubles the per-slot arrays (slot 0, the list head, included), up to capacity + 1 slots. */
  #grow(): void {
    const size = Math.min(Math.max(MIN_SLOTS, 2 * this.#prev.length), this.#capacity + 1);
    const grow = (old: Int32Array, width = 1) => {
      const next = new Int32Array(size * width);
      next.set(old);
      return next;
    };
    this.#prev = grow(this.#prev);
    this.#next = grow(this.#next);
    this.#block = grow(this.#block);
    this.#count = grow(this.#count);
    this.#shared = grow(this.#shared);
    this.#marks = grow(this.#marks, MARK_WORDS);
    this.#owner.length = size;
  }
}
