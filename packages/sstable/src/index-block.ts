import { prefix32, xxh32 } from '@kv/record';
import { ByteBuffer, compareAt, readU32, readU64, writeU32, writeU64 } from './bytes.js';
import {
  BLOCK_SLOT_BYTES,
  BLOCK_TRAILER_BYTES,
  corruption,
  INDEX_CHECKSUM_SEED,
  INDEX_ENTRY_FIXED_BYTES,
  INDEX_TRAILER_BYTES,
  MAX_KEY_BYTES,
} from './format.js';
import { hex } from './filter.js';

/*
 * The block index (FORMAT.md, "Index block"): per data block its offset, length, first key
 * and last key, then the block count and a checksum. The reader copies it into memory once
 * at open (memory proportional to the index, not the data) and binary-searches it in place.
 */

export class IndexBuilder {
  readonly #buf = new ByteBuffer(4096);
  count = 0;

  add(
    offset: number,
    length: number,
    keys: Uint8Array,
    firstPos: number,
    firstLen: number,
    lastPos: number,
    lastLen: number,
  ): void {
    const at = this.#buf.reserve(INDEX_ENTRY_FIXED_BYTES + firstLen + lastLen);
    const b = this.#buf.bytes;
    writeU64(b, at, offset);
    writeU32(b, at + 8, length);
    writeU32(b, at + 12, firstLen);
    writeU32(b, at + 16, lastLen);
    b.set(keys.subarray(firstPos, firstPos + firstLen), at + INDEX_ENTRY_FIXED_BYTES);
    b.set(keys.subarray(lastPos, lastPos + lastLen), at + INDEX_ENTRY_FIXED_BYTES + firstLen);
    this.#buf.length = at + INDEX_ENTRY_FIXED_BYTES + firstLen + lastLen;
    this.count++;
  }

  finish(): Uint8Array {
    this.#buf.appendU32(this.count);
    this.#buf.appendU32(0);
    const out = this.#buf.view();
    writeU32(out, out.length - 4, xxh32(out.subarray(0, out.length - 4), INDEX_CHECKSUM_SEED));
    return out;
  }
}

const STRIDE = 6;
const LAST_POS = 0;
const LAST_LEN = 1;
const FIRST_POS = 2;
const FIRST_LEN = 3;
const OFFSET = 4;
const LENGTH = 5;

/** The parsed, verified block index of an open table. */
export class BlockIndex {
  readonly count: number;
  /** The index block, a private copy unless parsed with `copy` false; keys are compared where they lie in it. */
  readonly #keys: Uint8Array;
  /**
   * Per block, interleaved so a search probe touches one cache line of it:
   * [lastPos, lastLen, firstPos, firstLen, offset, length] (positions in #keys).
   */
  readonly #meta: Uint32Array;
  /** Bytes every key in the table starts with: the common prefix of its first and last key. */
  #shared = 0;
  /**
   * Per block, bytes [shared, shared + 8) of its last key as two big-endian u32s, zero-padded:
   * an order-preserving summary that settles most probes of `locate` in one small array.
   */
  #lastPrefix: Uint32Array;

  private constructor(keys: Uint8Array, count: number) {
    this.count = count;
    this.#keys = keys;
    this.#meta = new Uint32Array(count * STRIDE);
    this.#lastPrefix = new Uint32Array(2 * count);
  }

  /**
   * Verifies and loads the index block at [at, at + length) of `bytes`, whose data blocks must
   * tile [0, dataEnd) exactly, in ascending, non-overlapping key order. `copy` false: the keys
   * are read where they lie in `bytes` (a mapping whose pages may be released and read again).
   */
  static parse(bytes: Uint8Array, at: number, length: number, dataEnd: number, path: string, copy = true): BlockIndex {
    if (length < INDEX_TRAILER_BYTES) throw corruption(path, at, `index block of ${length} bytes has no trailer`);
    const stored = readU32(bytes, at + length - 4);
    const computed = xxh32(bytes.subarray(at, at + length - 4), INDEX_CHECKSUM_SEED);
    if (stored !== computed) {
      throw corruption(path, at, `index block checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
    }
    const limit = length - INDEX_TRAILER_BYTES;
    const count = readU32(bytes, at + limit);
    if (count > limit / INDEX_ENTRY_FIXED_BYTES) {
      throw corruption(path, at + limit, `index block count ${count} does not fit ${length} bytes`);
    }
    const index = new BlockIndex(copy ? bytes.slice(at, at + limit) : bytes.subarray(at, at + limit), count);
    index.#load(path, at, dataEnd);
    return index;
  }

  #load(path: string, base: number, dataEnd: number): void {
    const b = this.#keys;
    const bad = (p: number, reason: string) => corruption(path, base + p, reason);
    let p = 0;
    let expected = 0;
    for (let i = 0; i < this.count; i++) {
      if (p + INDEX_ENTRY_FIXED_BYTES > b.length) throw bad(p, `index entry ${i} runs past the index`);
      const offset = readU64(b, p);
      const length = readU32(b, p + 8);
      const firstLen = readU32(b, p + 12);
      const lastLen = readU32(b, p + 16);
      if (offset !== expected) throw bad(p, `block ${i} at offset ${offset}, expected ${expected}`);
      if (length < BLOCK_TRAILER_BYTES + BLOCK_SLOT_BYTES || length > dataEnd - offset) {
        throw bad(p + 8, `block ${i} length ${length} out of range`);
      }
      if (firstLen > MAX_KEY_BYTES || lastLen > MAX_KEY_BYTES)
        throw bad(p + 12, `block ${i} key length over the limit`);
      const keysAt = p + INDEX_ENTRY_FIXED_BYTES;
      if (firstLen + lastLen > b.length - keysAt) throw bad(p, `index entry ${i} keys run past the index`);
      const m = this.#meta;
      const at = i * STRIDE;
      m[at + LAST_POS] = keysAt + firstLen;
      m[at + LAST_LEN] = lastLen;
      m[at + FIRST_POS] = keysAt;
      m[at + FIRST_LEN] = firstLen;
      m[at + OFFSET] = offset;
      m[at + LENGTH] = length;
      if (this.compareFirst(i, this.lastKey(i)) > 0) throw bad(p, `block ${i} first key is above its last key`);
      if (i > 0 && this.#compare(i - 1, LAST_POS, this.firstKey(i)) >= 0) {
        throw bad(p, `block ${i} keys overlap block ${i - 1}`);
      }
      expected = offset + length;
      p = keysAt + firstLen + lastLen;
    }
    if (p !== b.length) throw bad(p, `${b.length - p} stray bytes after the last index entry`);
    if (expected !== dataEnd) throw bad(p, `data blocks end at ${expected}, the filter starts at ${dataEnd}`);
    this.#loadPrefixes();
  }

  #loadPrefixes(): void {
    const n = this.count;
    if (n === 0) return;
    const m = this.#meta;
    const b = this.#keys;
    const minPos = m[FIRST_POS] as number;
    const maxPos = m[(n - 1) * STRIDE + LAST_POS] as number;
    const limit = Math.min(m[FIRST_LEN] as number, m[(n - 1) * STRIDE + LAST_LEN] as number);
    let shared = 0;
    while (shared < limit && b[minPos + shared] === b[maxPos + shared]) shared++;
    this.#shared = shared;
    for (let i = 0; i < n; i++) {
      const at = i * STRIDE;
      const pos = (m[at + LAST_POS] as number) + shared;
      const len = (m[at + LAST_LEN] as number) - shared;
      this.#lastPrefix[2 * i] = prefix32(b, pos, len);
      this.#lastPrefix[2 * i + 1] = prefix32(b, pos + 4, len - 4);
    }
  }

  offset(i: number): number {
    return this.#meta[i * STRIDE + OFFSET] as number;
  }

  length(i: number): number {
    return this.#meta[i * STRIDE + LENGTH] as number;
  }

  /** A copy of block `i`'s first key. */
  firstKey(i: number): Uint8Array {
    return this.#key(i, FIRST_POS);
  }

  /** A copy of block `i`'s last key. */
  lastKey(i: number): Uint8Array {
    return this.#key(i, LAST_POS);
  }

  compareFirst(i: number, key: Uint8Array): number {
    return this.#compare(i, FIRST_POS, key);
  }

  /**
   * The only block that can hold `key`: the first whose last key is >= `key`, or -1 when
   * `key` is outside the table's key range. The point-lookup path: allocates nothing, and
   * mostly reads one 8-byte prefix per probe.
   */
  locate(key: Uint8Array): number {
    const n = this.count;
    if (n === 0) return -1;
    const keys = this.#keys;
    const shared = this.#shared;
    if (key.length < shared) return -1;
    const minPos = this.#meta[FIRST_POS] as number;
    // Every key between the first and the last starts with the shared prefix.
    for (let j = 0; j < shared; j++) if (keys[minPos + j] !== key[j]) return -1;
    const kHigh = prefix32(key, shared, key.length - shared);
    const kLow = prefix32(key, shared + 4, key.length - shared - 4);
    const prefixes = this.#lastPrefix;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const high = prefixes[2 * mid] as number;
      const low = prefixes[2 * mid + 1] as number;
      const below =
        high < kHigh || (high === kHigh && (low < kLow || (low === kLow && this.#compare(mid, LAST_POS, key) < 0)));
      if (below) lo = mid + 1;
      else hi = mid;
    }
    return lo < n ? lo : -1;
  }

  /**
   * First block whose last key is >= `key` (`inclusive`) or > `key`: the only block that can
   * hold `key`, or the block a forward scan from `key` starts in. `count` when there is none.
   */
  seekForward(key: Uint8Array, inclusive: boolean): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.#compare(mid, LAST_POS, key);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Last block whose first key is <= `key` (`inclusive`) or < `key`; -1 when there is none. */
  seekBackward(key: Uint8Array, inclusive: boolean): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.#compare(mid, FIRST_POS, key);
      if (c < 0 || (c === 0 && inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Compares block `i`'s first (`which` = FIRST_POS) or last (LAST_POS) key with `key`. */
  #compare(i: number, which: number, key: Uint8Array): number {
    const at = i * STRIDE + which;
    return compareAt(this.#keys, this.#meta[at] as number, this.#meta[at + 1] as number, key);
  }

  #key(i: number, which: number): Uint8Array {
    const at = i * STRIDE + which;
    const pos = this.#meta[at] as number;
    return this.#keys.slice(pos, pos + (this.#meta[at + 1] as number));
  }
}
