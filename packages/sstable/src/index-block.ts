import { xxh32 } from '@kv/record';
import { ByteBuffer, compareAt, readU32, readU64, writeU32, writeU64 } from './bytes.js';
import {
  BLOCK_TRAILER_BYTES,
  corruption,
  INDEX_CHECKSUM_SEED,
  INDEX_ENTRY_FIXED_BYTES,
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

  add(offset: number, length: number, keys: Uint8Array, firstPos: number, firstLen: number, lastPos: number, lastLen: number): void {
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

/** The parsed, verified block index of an open table. */
export class BlockIndex {
  readonly count: number;
  /** A private copy of the index block; keys are compared where they lie in it. */
  readonly #keys: Uint8Array;
  readonly #offset: Float64Array;
  readonly #length: Uint32Array;
  readonly #firstPos: Uint32Array;
  readonly #firstLen: Uint32Array;
  readonly #lastPos: Uint32Array;
  readonly #lastLen: Uint32Array;

  private constructor(keys: Uint8Array, count: number) {
    this.count = count;
    this.#keys = keys;
    this.#offset = new Float64Array(count);
    this.#length = new Uint32Array(count);
    this.#firstPos = new Uint32Array(count);
    this.#firstLen = new Uint32Array(count);
    this.#lastPos = new Uint32Array(count);
    this.#lastLen = new Uint32Array(count);
  }

  /**
   * Verifies and loads the index block at [at, at + length) of `bytes`, whose data blocks must
   * tile [0, dataEnd) exactly, in ascending, non-overlapping key order.
   */
  static parse(bytes: Uint8Array, at: number, length: number, dataEnd: number, path: string): BlockIndex {
    if (length < BLOCK_TRAILER_BYTES) throw corruption(path, at, `index block of ${length} bytes has no trailer`);
    const stored = readU32(bytes, at + length - 4);
    const computed = xxh32(bytes.subarray(at, at + length - 4), INDEX_CHECKSUM_SEED);
    if (stored !== computed) {
      throw corruption(path, at, `index block checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
    }
    const limit = length - BLOCK_TRAILER_BYTES;
    const count = readU32(bytes, at + limit);
    if (count > limit / INDEX_ENTRY_FIXED_BYTES) {
      throw corruption(path, at + limit, `index block count ${count} does not fit ${length} bytes`);
    }
    const index = new BlockIndex(bytes.slice(at, at + limit), count);
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
      if (length < BLOCK_TRAILER_BYTES + 4 || length > dataEnd - offset) {
        throw bad(p + 8, `block ${i} length ${length} out of range`);
      }
      if (firstLen > MAX_KEY_BYTES || lastLen > MAX_KEY_BYTES) throw bad(p + 12, `block ${i} key length over the limit`);
      const keysAt = p + INDEX_ENTRY_FIXED_BYTES;
      if (firstLen + lastLen > b.length - keysAt) throw bad(p, `index entry ${i} keys run past the index`);
      this.#offset[i] = offset;
      this.#length[i] = length;
      this.#firstPos[i] = keysAt;
      this.#firstLen[i] = firstLen;
      this.#lastPos[i] = keysAt + firstLen;
      this.#lastLen[i] = lastLen;
      if (this.#compare(this.#firstPos, this.#firstLen, i, this.lastKey(i)) > 0) {
        throw bad(p, `block ${i} first key is above its last key`);
      }
      if (i > 0 && this.#compare(this.#lastPos, this.#lastLen, i - 1, this.firstKey(i)) >= 0) {
        throw bad(p, `block ${i} keys overlap block ${i - 1}`);
      }
      expected = offset + length;
      p = keysAt + firstLen + lastLen;
    }
    if (p !== b.length) throw bad(p, `${b.length - p} stray bytes after the last index entry`);
    if (expected !== dataEnd) throw bad(p, `data blocks end at ${expected}, the filter starts at ${dataEnd}`);
  }

  offset(i: number): number {
    return this.#offset[i] as number;
  }

  length(i: number): number {
    return this.#length[i] as number;
  }

  /** A copy of block `i`'s first key. */
  firstKey(i: number): Uint8Array {
    const at = this.#firstPos[i] as number;
    return this.#keys.slice(at, at + (this.#firstLen[i] as number));
  }

  /** A copy of block `i`'s last key. */
  lastKey(i: number): Uint8Array {
    const at = this.#lastPos[i] as number;
    return this.#keys.slice(at, at + (this.#lastLen[i] as number));
  }

  compareFirst(i: number, key: Uint8Array): number {
    return this.#compare(this.#firstPos, this.#firstLen, i, key);
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
      const c = this.#compare(this.#lastPos, this.#lastLen, mid, key);
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
      const c = this.#compare(this.#firstPos, this.#firstLen, mid, key);
      if (c < 0 || (c === 0 && inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  #compare(pos: Uint32Array, len: Uint32Array, i: number, key: Uint8Array): number {
    return compareAt(this.#keys, pos[i] as number, len[i] as number, key);
  }
}
