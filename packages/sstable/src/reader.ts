import {
  aboveLower,
  belowUpper,
  compareBytes,
  ioError,
  isKvError,
  type KeyRange,
  KvError,
  type KvRecord,
  xxh32,
} from '@kv/record';
import { BlockView } from './block.js';
import { BlockCache, type CachedTable } from './block-cache.js';
import { ByteSlab } from './bytes.js';
import { BloomView, type KeyHash } from './filter.js';
import { decodeFooter } from './footer.js';
import { BLOOM_SEED_1, BLOOM_SEED_2, corruption, FOOTER_BYTES, MAX_TABLE_BYTES } from './format.js';
import { nodeTableFs, releasePages, type TableFs } from './fs.js';
import { BlockIndex } from './index-block.js';
import type { TableInfo } from './table-builder.js';

export interface TableOpenOptions {
  /** File-system seam. Default: the real file system. */
  fs?: TableFs;
  /**
   * A cache of verified data blocks, which any number of tables may share: gets and scans
   * look blocks up in it and add the blocks they verify. Default: none (every read verifies
   * its block).
   */
  cache?: BlockCache;
  /**
   * How the table will be read. 'random' (the default): gets and scans; the index is copied
   * out of the mapping at open. 'scan': read front to back once, as a compaction reads its
   * inputs; the index is read where it lies in the mapping, so an open table holds ~32 bytes
   * per block instead of its index. Either way the filter's and index's pages are released
   * once verified, and gets fault back in the pages they read.
   */
  access?: 'random' | 'scan';
}

/** What an open table reads from; dropped at close so the mapping can be collected. */
interface OpenState {
  bytes: Uint8Array;
  filter: BloomView;
  index: BlockIndex;
  /** The block cache and this open's share of it; undefined without one (or with a disabled one). */
  cache: BlockCache | undefined;
  cached: CachedTable | undefined;
}

interface Seek {
  key: Uint8Array;
  inclusive: boolean;
}

const EMPTY = new Uint8Array(0);

/**
 * An immutable table file, memory-mapped. Reads are synchronous. Every structure is checked
 * at open (footer, filter, index) or when first read (data blocks); a check that fails is
 * KV_CORRUPTION naming the file, the offset and the reason, and from then on every call on
 * this table fails with that error. After `close()` every call but `close` throws KV_NOT_OPEN.
 */
export interface ScanOptions {
  /**
   * Forward scans only: drop the pages already read from the process's resident set as the
   * scan goes (for a one-pass read of a whole table, such as a compaction's inputs).
   */
  dropBehind?: boolean;
  /**
   * Records whose key and value are views of the table's bytes instead of copies: no
   * allocation but the record, for a caller that is done with each record as it goes (a
   * compaction copies them into its output). A view keeps the whole mapping (and, after an
   * unlink, the file's disk space) alive while it is referenced, so such records are not for
   * handing out.
   */
  views?: boolean;
}

/**
 * A dropBehind scan releases what it has read in steps of this many bytes, and the rest when
 * it ends. A compaction reads all its inputs at once (25 and more level-0 tables when writes
 * outpace it), so what each input holds resident adds up: 4 MiB steps, never released at the
 * end of a table, left ~90 MB of input pages resident at the peak of a 10M-key load.
 */
const DROP_BEHIND_BYTES = 256 * 1024;

export class Table {
  readonly info: Readonly<TableInfo>;
  #state: OpenState | undefined;
  #failure: KvError | undefined;
  readonly #slab = new ByteSlab();

  private constructor(info: TableInfo, state: OpenState) {
    this.info = Object.freeze(info);
    this.#state = state;
  }

  /** Opens and checks the table at `path`. KV_IO_ERROR when it cannot be read, KV_CORRUPTION when it is not a valid table. */
  static async open(path: string, options: TableOpenOptions = {}): Promise<Table> {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const fs = options.fs ?? nodeTableFs;
    const cache = options.cache;
    if (cache !== undefined && !(cache instanceof BlockCache)) throw new TypeError('cache must be a BlockCache');
    const access = options.access ?? 'random';
    if (access !== 'random' && access !== 'scan') throw new TypeError("access must be 'random' or 'scan'");
    let file: Awaited<ReturnType<TableFs['open']>>;
    try {
      file = await fs.open(path, 'read');
    } catch (err) {
      throw ioError(`opening table ${path}`, err);
    }
    let bytes: Uint8Array;
    try {
      const { size } = await file.stat();
      if (size === 0) throw corruption(path, 0, 'empty file; a table holds at least its footer');
      if (size < FOOTER_BYTES) {
        throw corruption(path, 0, `file of ${size} bytes is shorter than the ${FOOTER_BYTES}-byte footer (truncated?)`);
      }
      if (size > MAX_TABLE_BYTES) throw corruption(path, 0, `file of ${size} bytes is larger than any table`);
      const mapped = file.map(size);
      if (mapped.length < size) throw corruption(path, mapped.length, `only ${mapped.length} of ${size} bytes mapped`);
      // A plain Uint8Array over the mapping: slice() copies (Buffer's would alias the map).
      bytes = new Uint8Array(mapped.buffer, mapped.byteOffset, size);
    } catch (err) {
      await file.close().catch(() => {});
      throw isKvError(err) ? err : ioError(`reading table ${path}`, err);
    }
    await file.close().catch(() => {});
    return Table.#parse(path, bytes, cache, access === 'scan');
  }

  static #parse(path: string, bytes: Uint8Array, cache: BlockCache | undefined, scan: boolean): Table {
    const footer = decodeFooter(bytes, bytes.length, path);
    const filter = BloomView.parse(bytes, footer.filterOffset, footer.filterLength, path);
    const index = BlockIndex.parse(bytes, footer.indexOffset, footer.indexLength, footer.filterOffset, path, !scan);
    if (footer.count < index.count || (footer.count === 0) !== (index.count === 0)) {
      throw corruption(path, bytes.length - FOOTER_BYTES, `${footer.count} entries cannot fill ${index.count} blocks`);
    }
    const last = index.count - 1;
    const info: TableInfo = {
      path,
      fileBytes: bytes.length,
      count: footer.count,
      tombstones: footer.tombstones,
      minKey: index.count > 0 ? index.firstKey(0) : EMPTY,
      maxKey: index.count > 0 ? index.lastKey(last) : EMPTY,
      minSeq: footer.minSeq,
      maxSeq: footer.maxSeq,
    };
    // Verifying the filter and parsing the index read every page of both: they leave the
    // resident set now, and a lookup faults back in (from the page cache) only the filter
    // pages it probes. Kept resident, the filters of the tables a 10M-key load writes were
    // 25-38 MB of its peak RSS, though the load reads none of them. The index was copied as
    // it was parsed (a table opened for a scan reads it through the mapping when it seeks).
    releasePages(bytes, footer.filterOffset, bytes.length, true);
    const cached = cache?.attach(index.count);
    const state = { bytes, filter, index, cache: cached === undefined ? undefined : cache, cached };
    return new Table(info, state);
  }

  /**
   * The entry for `key` (a put or a tombstone), or undefined. `hash`, when given, must be
   * `hashKey(key)` of this same key: hash once, probe every table. A miss that the filter or
   * the key range rules out allocates nothing.
   */
  get(key: Uint8Array, hash?: KeyHash): KvRecord | undefined {
    const block = this.#find(key, hash);
    if (block === undefined) return undefined;
    try {
      return block.record(this.#found, this.#slab);
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /**
   * What a get of `key` finds here: its value (a copy), null for a tombstone, or undefined
   * when the table has no entry for it. Same checks and `hash` contract as `get`, without
   * building a record.
   */
  getValue(key: Uint8Array, hash?: KeyHash): Uint8Array | null | undefined {
    const block = this.#find(key, hash);
    if (block === undefined) return undefined;
    try {
      return block.value(this.#found, this.#slab);
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /** Entry index of the last successful #find (lookups are synchronous). */
  #found = -1;

  /** The block holding `key`, its entry index left in #found; undefined when the table has none. */
  #find(key: Uint8Array, hash: KeyHash | undefined): BlockView | undefined {
    const s = this.#open();
    checkLookup(key, hash);
    const h1 = hash === undefined ? xxh32(key, BLOOM_SEED_1) : hash.h1;
    const h2 = hash === undefined ? xxh32(key, BLOOM_SEED_2) : hash.h2;
    if (!s.filter.mayContain(h1, h2)) return undefined;
    const b = s.index.locate(key);
    if (b < 0) return undefined;
    try {
      const block = this.#block(s, b, true);
      this.#found = block.find(key);
      return this.#found < 0 ? undefined : block;
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /** False when the table certainly does not hold `key` (filter and key range); true when it may. */
  mayContain(key: Uint8Array, hash?: KeyHash): boolean {
    const s = this.#open();
    checkLookup(key, hash);
    const h1 = hash === undefined ? xxh32(key, BLOOM_SEED_1) : hash.h1;
    const h2 = hash === undefined ? xxh32(key, BLOOM_SEED_2) : hash.h2;
    if (!s.filter.mayContain(h1, h2)) return false;
    return s.index.locate(key) >= 0;
  }

  /**
   * Entries within `range` in key order (descending with `reverse`), tombstones included.
   * Lazy: seeks to the first block through the index and reads block by block.
   */
  entries(range: KeyRange = {}, options: ScanOptions = {}): IterableIterator<KvRecord> {
    const s = this.#open();
    checkRange(range);
    // A snapshot of the bounds: the caller may reuse its object while the scan runs.
    const { gt, gte, lt, lte, reverse } = range;
    const bounds: KeyRange = { gt, gte, lt, lte };
    const slab = options.views === true ? null : this.#slab;
    return reverse === true
      ? this.#backward(s, bounds, slab)
      : this.#forward(s, bounds, options.dropBehind === true, slab);
  }

  /**
   * Releases the mapping (when the last iterator lets go of it) and drops the table's blocks
   * from its cache. Idempotent.
   */
  close(): void {
    const s = this.#state;
    this.#detach();
    this.#state = undefined;
    if (s !== undefined) releasePages(s.bytes, 0, s.bytes.length);
  }

  *#forward(
    s: OpenState,
    range: KeyRange,
    dropBehind: boolean,
    slab: ByteSlab | null,
  ): Generator<KvRecord, void, undefined> {
    const seek = lowerSeek(range);
    const index = s.index;
    // Each release starts where the one before it started: the first read past a released
    // range faults in the page cache's pages around it (64 KiB by default), behind it too.
    let releaseFrom = -1;
    let step = -1;
    let b = seek === undefined ? 0 : index.seekForward(seek.key, seek.inclusive);
    try {
      for (; b < index.count; b++) {
        this.#open();
        if (dropBehind) {
          const at = index.offset(b);
          if (step < 0) releaseFrom = step = at;
          else if (at - step >= DROP_BEHIND_BYTES) {
            releasePages(s.bytes, releaseFrom, at);
            releaseFrom = step;
            step = at;
          }
        }
        let block: BlockView;
        let i = 0;
        try {
          block = this.#block(s, b, false);
          if (seek !== undefined) i = block.seek(seek.key, seek.inclusive);
        } catch (err) {
          throw this.#fail(err);
        }
        for (; i < block.count; i++) {
          this.#open();
          const rec = this.#record(block, i, slab);
          if (!belowUpper(rec.key, range)) return;
          yield rec;
        }
      }
    } finally {
      // Up to the end of the last block read; the index and filter after the data stay.
      if (releaseFrom >= 0 && this.#state === s) {
        const last = Math.min(b, index.count - 1);
        releasePages(s.bytes, releaseFrom, index.offset(last) + index.length(last));
      }
    }
  }

  *#backward(s: OpenState, range: KeyRange, slab: ByteSlab | null): Generator<KvRecord, void, undefined> {
    const seek = upperSeek(range);
    const index = s.index;
    for (let b = seek === undefined ? index.count - 1 : index.seekBackward(seek.key, seek.inclusive); b >= 0; b--) {
      this.#open();
      let block: BlockView;
      let i: number;
      try {
        block = this.#block(s, b, false);
        i = seek === undefined ? block.count - 1 : block.seek(seek.key, !seek.inclusive) - 1;
      } catch (err) {
        throw this.#fail(err);
      }
      for (; i >= 0; i--) {
        this.#open();
        const rec = this.#record(block, i, slab);
        if (!aboveLower(rec.key, range)) return;
        yield rec;
      }
    }
  }

  /**
   * Block `b`, its slots verified, through the cache when there is one. `once`: the view is
   * used by this one synchronous call only (a get), so it may share the cache's record of
   * verified entries; a scan holds its view across yields and verifies every entry itself.
   */
  #block(s: OpenState, b: number, once: boolean): BlockView {
    const start = s.index.offset(b);
    const length = s.index.length(b);
    if (s.cached === undefined) return BlockView.read(s.bytes, start, length, this.info.path);
    return (s.cache as BlockCache).block(s.cached, b, s.bytes, start, length, this.info.path, once);
  }

  #record(block: BlockView, i: number, slab: ByteSlab | null): KvRecord {
    try {
      return block.record(i, slab);
    } catch (err) {
      throw this.#fail(err);
    }
  }

  #open(): OpenState {
    const state = this.#state;
    if (state === undefined) {
      throw new KvError('KV_NOT_OPEN', `table ${this.info.path} is closed; open it again with Table.open`);
    }
    if (this.#failure !== undefined) throw this.#failure;
    return state;
  }

  /**
   * Corruption is sticky: once seen, every later call on this table fails with it (and its
   * cached blocks, which nothing can read any more, are dropped).
   */
  #fail(err: unknown): unknown {
    if (isKvError(err, 'KV_CORRUPTION')) {
      this.#failure = err;
      this.#detach();
    }
    return err;
  }

  #detach(): void {
    const s = this.#state;
    if (s?.cached !== undefined) s.cache?.detach(s.cached);
  }
}

function checkLookup(key: Uint8Array, hash: KeyHash | undefined): void {
  if (!(key instanceof Uint8Array)) throw new TypeError('key must be a Uint8Array');
  if (hash !== undefined && (typeof hash.h1 !== 'number' || typeof hash.h2 !== 'number')) {
    throw new TypeError('hash must come from hashKey(key)');
  }
}

function checkRange(range: KeyRange): void {
  if (range === null || typeof range !== 'object') throw new TypeError('range must be an object');
  for (const name of ['gt', 'gte', 'lt', 'lte'] as const) {
    const bound = range[name];
    if (bound !== undefined && !(bound instanceof Uint8Array))
      throw new TypeError(`range.${name} must be a Uint8Array`);
  }
}

/** The stricter lower bound of `range`, where a forward scan starts. */
function lowerSeek(range: KeyRange): Seek | undefined {
  const { gt, gte } = range;
  if (gt === undefined) return gte === undefined ? undefined : { key: gte, inclusive: true };
  if (gte === undefined || compareBytes(gt, gte) >= 0) return { key: gt, inclusive: false };
  return { key: gte, inclusive: true };
}

/** The stricter upper bound of `range`, where a reverse scan starts. */
function upperSeek(range: KeyRange): Seek | undefined {
  const { lt, lte } = range;
  if (lt === undefined) return lte === undefined ? undefined : { key: lte, inclusive: true };
  if (lte === undefined || compareBytes(lt, lte) <= 0) return { key: lt, inclusive: false };
  return { key: lte, inclusive: true };
}
