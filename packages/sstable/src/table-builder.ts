import { checkRecordLimits, describe, isRecordType, KvError, type KvRecord } from '@kv/record';
import { BlockBuilder, entryBytes } from './block-builder.js';
import { ByteBuffer, compareAt } from './bytes.js';
import { buildFilter, FilterBuilder, hashKey } from './filter.js';
import { encodeFooter } from './footer.js';
import { FOOTER_BYTES, MAX_TABLE_BYTES } from './format.js';
import { IndexBuilder } from './index-block.js';

/** What a table holds, from its footer and index. */
export interface TableInfo {
  path: string;
  fileBytes: number;
  /** Entries, tombstones included. */
  count: number;
  tombstones: number;
  /** Smallest and largest key; both empty (length 0) when the table is empty. */
  minKey: Uint8Array;
  maxKey: Uint8Array;
  /** Smallest and largest sequence number; both 0 when the table is empty. */
  minSeq: number;
  maxSeq: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Encodes a table from records given one at a time, in memory proportional to one block, the
 * index and the filter. With a finite `maxKeys` the filter is sized for that many keys up front
 * and each key's bits are set as it is added; without one (Infinity) each key's two hashes are
 * kept (8 bytes a key, up to twice that while the array grows) until `finish` knows the count.
 * Output accumulates as pending pieces; the caller drains them (`takePending`) and writes
 * them at the positions it reaches. The filter, index and footer `finish` adds are pieces of
 * their own, not copied behind the data (for a large table, megabytes the output buffer would
 * have grown by). Synchronous and free of I/O, so the writer owns every file operation
 * and every error path.
 */
export class TableBuilder {
  readonly #blockBytes: number;
  readonly #bitsPerKey: number;
  readonly #block: BlockBuilder;
  readonly #index = new IndexBuilder();
  readonly #out: ByteBuffer;
  /** Pieces pending after `#out` (what `finish` adds), in file order. */
  #tail: Uint8Array[] = [];
  #tailBytes = 0;
  /** Bytes emitted so far: drained plus pending. */
  #offset = 0;
  readonly #maxKeys: number;
  /** With a finite `maxKeys`: the filter, its bits set as keys arrive. */
  readonly #filter: FilterBuilder | undefined;
  /** Without one: two hashes per key, kept for `finish` to build the filter from. */
  #hashes: Uint32Array;
  #count = 0;
  #tombstones = 0;
  #minSeq = 0;
  #maxSeq = 0;
  #minKey = EMPTY;
  readonly #prevKey = new ByteBuffer(256);

  /**
   * `maxKeys`: the most records `add` takes (a non-negative safe integer), or Infinity for no
   * bound. `drainBytes`: how many pending bytes the caller lets build up before it drains them;
   * the output buffer is sized for that and one block, so that it does not grow by doubling.
   */
  constructor(blockBytes: number, bitsPerKey: number, maxKeys: number, drainBytes = 64 * 1024) {
    this.#out = new ByteBuffer(drainBytes + blockBytes);
    this.#blockBytes = blockBytes;
    this.#bitsPerKey = bitsPerKey;
    this.#block = new BlockBuilder(blockBytes + 1024);
    this.#maxKeys = maxKeys;
    const bounded = maxKeys !== Number.POSITIVE_INFINITY;
    this.#filter = bounded ? new FilterBuilder(maxKeys, bitsPerKey) : undefined;
    this.#hashes = new Uint32Array(bounded ? 0 : 2 * 1024);
  }

  /** Bytes encoded and not yet drained. */
  get pendingBytes(): number {
    return this.#out.length + this.#tailBytes;
  }

  /**
   * The pending bytes as pieces to write one after the other, valid until the next `add` or
   * `finish`; they count as drained.
   */
  takePending(): Uint8Array[] {
    const pieces = this.#out.length > 0 ? [this.#out.view(), ...this.#tail] : this.#tail;
    this.#out.reset();
    this.#tail = [];
    this.#tailBytes = 0;
    return pieces;
  }

  /** Adds the next record. Throws TypeError, KV_INVALID_ARGUMENT or KV_TOO_LARGE, adding nothing. */
  add(rec: KvRecord): void {
    checkRecord(rec, this.#count);
    checkRecordLimits(rec);
    const key = rec.key;
    const prev = this.#prevKey;
    if (this.#count > 0 && compareAt(prev.bytes, 0, prev.length, key) >= 0) {
      const dup = compareAt(prev.bytes, 0, prev.length, key) === 0;
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        `record ${this.#count} ${dup ? 'repeats the previous key' : 'is below the previous key'}: ` +
          'a table takes records in strictly ascending key order, one version per key',
      );
    }
    if (this.#count === this.#maxKeys) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        `record ${this.#count} is past maxKeys (${this.#maxKeys}), the most records the filter was sized for: ` +
          'pass an upper bound on the number of records, or leave maxKeys out',
      );
    }
    const size = entryBytes(rec);
    const block = this.#block;
    if (block.count > 0 && block.sizeWith(size) > this.#blockBytes) this.#finishBlock();
    block.add(rec, size);

    prev.reset();
    prev.append(key);
    if (this.#count === 0) {
      this.#minKey = key.slice();
      this.#minSeq = rec.seq;
      this.#maxSeq = rec.seq;
    } else {
      if (rec.seq < this.#minSeq) this.#minSeq = rec.seq;
      if (rec.seq > this.#maxSeq) this.#maxSeq = rec.seq;
    }
    if (rec.tombstone) this.#tombstones++;
    if (this.#filter === undefined) this.#addHash(key);
    else this.#filter.addKey(key);
    this.#count++;
  }

  /**
   * Seals the table: last block, filter, index, footer. Returns the table's info (its path
   * left empty for the caller) once everything is pending.
   */
  finish(): TableInfo {
    if (this.#block.count > 0) this.#finishBlock();
    const filterOffset = this.#offset;
    const filter = this.#filter?.finish() ?? buildFilter(this.#hashes, this.#count, this.#bitsPerKey);
    this.#emit(filter, true);
    const indexOffset = this.#offset;
    const index = this.#index.finish();
    this.#emit(index, true);
    this.#emit(
      encodeFooter({
        count: this.#count,
        tombstones: this.#tombstones,
        minSeq: this.#minSeq,
        maxSeq: this.#maxSeq,
        filterOffset,
        indexOffset,
        filterLength: filter.length,
        indexLength: index.length,
      }),
      true,
    );
    return {
      path: '',
      fileBytes: this.#offset,
      count: this.#count,
      tombstones: this.#tombstones,
      minKey: this.#minKey,
      maxKey: this.#count === 0 ? EMPTY : this.#prevKey.view().slice(),
      minSeq: this.#minSeq,
      maxSeq: this.#maxSeq,
    };
  }

  #finishBlock(): void {
    const block = this.#block;
    const offset = this.#offset;
    const bytes = block.finish();
    this.#emit(bytes);
    const keys = block.keys();
    this.#index.add(
      offset,
      bytes.length,
      keys,
      block.firstKeyPos,
      block.firstKeyLen,
      block.lastKeyPos,
      block.lastKeyLen,
    );
    block.reset();
  }

  /** Adds `bytes` to the output: copied into the buffer, or with `asPiece` as a piece of its own (which must not change until drained). */
  #emit(bytes: Uint8Array, asPiece = false): void {
    if (this.#offset + bytes.length + FOOTER_BYTES > MAX_TABLE_BYTES) {
      throw new KvError(
        'KV_TOO_LARGE',
        `table would exceed ${MAX_TABLE_BYTES} bytes, the largest a table can be mapped at; split the input into several tables`,
      );
    }
    if (asPiece) {
      this.#tail.push(bytes);
      this.#tailBytes += bytes.length;
    } else {
      this.#out.append(bytes);
    }
    this.#offset += bytes.length;
  }

  #addHash(key: Uint8Array): void {
    if (2 * this.#count + 2 > this.#hashes.length) {
      const next = new Uint32Array(this.#hashes.length * 2);
      next.set(this.#hashes);
      this.#hashes = next;
    }
    const h = hashKey(key);
    this.#hashes[2 * this.#count] = h.h1;
    this.#hashes[2 * this.#count + 1] = h.h2;
  }
}

/** Shape checks: a table stores exactly the fields of a KvRecord. */
function checkRecord(rec: KvRecord, i: number): void {
  if (rec === null || typeof rec !== 'object')
    throw new TypeError(`record ${i} must be a KvRecord, got ${describe(rec)}`);
  if (!(rec.key instanceof Uint8Array)) throw new TypeError(`record ${i}: key must be a Uint8Array`);
  if (!(rec.value instanceof Uint8Array)) throw new TypeError(`record ${i}: value must be a Uint8Array`);
  if (typeof rec.tombstone !== 'boolean') throw new TypeError(`record ${i}: tombstone must be a boolean`);
  if (rec.tombstone && rec.value.length > 0) throw new TypeError(`record ${i}: a tombstone carries no value`);
  if (!Number.isSafeInteger(rec.seq) || rec.seq < 0) {
    throw new TypeError(`record ${i}: seq must be a non-negative safe integer`);
  }
  if (!Number.isSafeInteger(rec.timestamp) || rec.timestamp < 0) {
    throw new TypeError(`record ${i}: timestamp must be a non-negative safe integer`);
  }
  if (!isRecordType(rec.type)) throw new TypeError(`record ${i}: unknown type`);
}
