import { xxh32 } from '@kv/record';
import { readU32, writeU32 } from './bytes.js';
import {
  BLOOM_SEED_1,
  BLOOM_SEED_2,
  corruption,
  FILTER_BLOCK_BITS,
  FILTER_BLOCKED_FLAG,
  FILTER_CHECKSUM_SEED,
  FILTER_OVERHEAD_BYTES,
  FILTER_PROBE_MULTIPLIER,
  FILTER_RESERVED_BITS,
  MAX_FILTER_BITS,
  MAX_FILTER_HASHES,
  MIN_FILTER_BITS,
} from './format.js';

/*
 * Bloom filter of a table (FORMAT.md, "Filter block"). The writer builds a blocked filter: all
 * k bits of a key lie in one 512-bit block (one cache line) chosen by h1, at positions stepped
 * from h2, so a probe reads one block where a plain filter reads up to k scattered lines. Tables
 * written before hold the plain layout (k bits over the whole array by double hashing); the
 * header's k word tells them apart and BloomView answers for both. One hashKey per engine get
 * serves every table either way, and probes read the bits where they lie in the mapped file.
 */

const BLOCK_BYTES = FILTER_BLOCK_BITS / 8;

/** The two hashes of a key that every table's filter derives its bit indexes from. */
export interface KeyHash {
  readonly h1: number;
  readonly h2: number;
}

/** Hashes `key` once for `Table.get` / `Table.mayContain` on any number of tables. */
export function hashKey(key: Uint8Array): KeyHash {
  if (!(key instanceof Uint8Array)) throw new TypeError('key must be a Uint8Array');
  return { h1: xxh32(key, BLOOM_SEED_1), h2: xxh32(key, BLOOM_SEED_2) };
}

/** Probes per key for `bitsPerKey` bits per key: ceil(m/n · ln 2), in [1, MAX_FILTER_HASHES]. */
export function filterHashes(bitsPerKey: number): number {
  return Math.min(MAX_FILTER_HASHES, Math.max(1, Math.ceil(bitsPerKey * Math.LN2)));
}

/** Bits of a blocked filter over `keys` keys: whole 512-bit blocks, in [512, MAX_FILTER_BITS]. */
export function filterBits(keys: number, bitsPerKey: number): number {
  const bits = Math.ceil((keys * bitsPerKey) / FILTER_BLOCK_BITS) * FILTER_BLOCK_BITS;
  return Math.min(MAX_FILTER_BITS, Math.max(FILTER_BLOCK_BITS, bits));
}

/**
 * The block of a key with hash `h1` in a filter of `blocks` blocks: floor(h1 · blocks / 2^32),
 * the high word of the 64-bit product (Lemire's multiply-shift; `h1 % blocks` on a u32 that is
 * not a small integer costs V8 a float modulo, ~15 ns a probe). Computed in halves so that every
 * product stays below 2^39, exact in a double, for `blocks` ≤ 2^22.
 */
export function filterBlock(h1: number, blocks: number): number {
  const low = Math.floor(((h1 & 0xffff) * blocks) / 0x10000);
  return Math.floor(((h1 >>> 16) * blocks + low) / 0x10000);
}

/**
 * Builds the (blocked) filter block over `count` keys whose hashes are `hashes[2i]`,
 * `hashes[2i + 1]`: key i sets bits x >>> 23 of block filterBlock(h1), for x = h2, h2·c, h2·c², ...
 */
export function buildFilter(hashes: Uint32Array, count: number, bitsPerKey: number): Uint8Array {
  const filter = new FilterBuilder(count, bitsPerKey);
  for (let i = 0; i < count; i++) filter.add(hashes[2 * i] as number, hashes[2 * i + 1] as number);
  return filter.finish();
}

/**
 * A blocked filter block filled one key at a time, its bits sized up front for `keys` keys
 * (`filterBits`), so the keys' hashes need not be kept until the count is known. Fed exactly
 * `keys` keys it yields the bytes `buildFilter` does; fed fewer, a valid filter with more bits
 * per key than asked (fewer false positives, more bytes), which a reader cannot tell apart: it
 * takes the block count from `m`, never from the table's key count. Memory: the filter itself,
 * `keys · bitsPerKey / 8` bytes, from the start.
 */
export class FilterBuilder {
  readonly #out: Uint8Array;
  readonly #m: number;
  readonly #k: number;
  readonly #blocks: number;

  constructor(keys: number, bitsPerKey: number) {
    this.#m = filterBits(keys, bitsPerKey);
    this.#k = filterHashes(bitsPerKey);
    this.#blocks = this.#m / FILTER_BLOCK_BITS;
    this.#out = new Uint8Array(FILTER_OVERHEAD_BYTES + this.#m / 8);
  }

  /** Sets the bits of the key with hashes (h1, h2) (`hashKey`). Allocates nothing. */
  add(h1: number, h2: number): void {
    const out = this.#out;
    const block = 8 + filterBlock(h1, this.#blocks) * BLOCK_BYTES;
    let x = h2;
    for (let j = this.#k; j > 0; j--) {
      const bit = x >>> 23;
      out[block + (bit >>> 3)] = (out[block + (bit >>> 3)] as number) | (1 << (bit & 7));
      x = Math.imul(x, FILTER_PROBE_MULTIPLIER);
    }
  }

  /** Sets the bits of `key`, hashing it as `hashKey` does without allocating. */
  addKey(key: Uint8Array): void {
    this.add(xxh32(key, BLOOM_SEED_1), xxh32(key, BLOOM_SEED_2));
  }

  /** The sealed filter block (header, bits, checksum). Call once, after the last `add`. */
  finish(): Uint8Array {
    return seal(this.#out, this.#m, FILTER_BLOCKED_FLAG | this.#k);
  }
}

/**
 * Builds a plain filter, the layout of tables written before blocked filters: key i sets bits
 * (h1 mod m + j · (h2 mod m or 1)) mod m of a multiple-of-8 `m`. The writer never uses it; it
 * stays so tests and benchmarks can make such tables and check that they still read.
 */
export function buildPlainFilter(hashes: Uint32Array, count: number, bitsPerKey: number): Uint8Array {
  const m = Math.min(MAX_FILTER_BITS, Math.max(MIN_FILTER_BITS, Math.ceil((count * bitsPerKey) / 8) * 8));
  const k = filterHashes(bitsPerKey);
  const out = new Uint8Array(FILTER_OVERHEAD_BYTES + m / 8);
  for (let i = 0; i < count; i++) {
    let h = (hashes[2 * i] as number) % m;
    const delta = (hashes[2 * i + 1] as number) % m || 1;
    for (let j = 0; j < k; j++) {
      out[8 + (h >>> 3)] = (out[8 + (h >>> 3)] as number) | (1 << (h & 7));
      h += delta;
      if (h >= m) h -= m;
    }
  }
  return seal(out, m, k);
}

/** Writes the header (`m`, the k word) and the checksum around the bits already in `out`. */
function seal(out: Uint8Array, m: number, kWord: number): Uint8Array {
  writeU32(out, 0, m);
  writeU32(out, 4, kWord);
  writeU32(out, out.length - 4, xxh32(out.subarray(0, out.length - 4), FILTER_CHECKSUM_SEED));
  return out;
}

/** A verified filter block, probed in place in the table's bytes. */
export class BloomView {
  readonly #bytes: Uint8Array;
  readonly #bitsAt: number;
  readonly #blocked: boolean;
  /** Blocked: the number of 512-bit blocks. Plain: the number of bits. */
  readonly #span: number;
  readonly #k: number;

  private constructor(bytes: Uint8Array, bitsAt: number, blocked: boolean, span: number, k: number) {
    this.#bytes = bytes;
    this.#bitsAt = bitsAt;
    this.#blocked = blocked;
    this.#span = span;
    this.#k = k;
  }

  /** Checks the filter block at [at, at + length) of `bytes`; bad bytes are KV_CORRUPTION. */
  static parse(bytes: Uint8Array, at: number, length: number, path: string): BloomView {
    if (length < FILTER_OVERHEAD_BYTES + MIN_FILTER_BITS / 8) {
      throw corruption(path, at, `filter block of ${length} bytes is shorter than the smallest filter`);
    }
    const stored = readU32(bytes, at + length - 4);
    const computed = xxh32(bytes.subarray(at, at + length - 4), FILTER_CHECKSUM_SEED);
    if (stored !== computed) {
      throw corruption(path, at, `filter block checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
    }
    const m = readU32(bytes, at);
    const kWord = readU32(bytes, at + 4);
    const unknown = kWord & FILTER_RESERVED_BITS;
    if (unknown !== 0) throw corruption(path, at + 4, `filter k word ${hex(kWord)} has unknown flag bits`);
    const blocked = kWord >= FILTER_BLOCKED_FLAG;
    const k = blocked ? kWord - FILTER_BLOCKED_FLAG : kWord;
    if (blocked && (m % FILTER_BLOCK_BITS !== 0 || m === 0)) {
      throw corruption(path, at, `blocked filter of ${m} bits is not a positive multiple of ${FILTER_BLOCK_BITS}`);
    }
    if (m % 8 !== 0 || m < MIN_FILTER_BITS || m > MAX_FILTER_BITS || FILTER_OVERHEAD_BYTES + m / 8 !== length) {
      throw corruption(path, at, `filter of ${m} bits does not fill its ${length}-byte block`);
    }
    if (k < 1 || k > MAX_FILTER_HASHES) throw corruption(path, at + 4, `filter hash count ${k} out of range`);
    return new BloomView(bytes, at + 8, blocked, blocked ? m / FILTER_BLOCK_BITS : m, k);
  }

  /** False when the key with hashes (h1, h2) is certainly absent. Allocates nothing. */
  mayContain(h1: number, h2: number): boolean {
    const bytes = this.#bytes;
    if (this.#blocked) {
      const block = this.#bitsAt + filterBlock(h1, this.#span) * BLOCK_BYTES;
      let x = h2;
      for (let j = this.#k; j > 0; j--) {
        const bit = x >>> 23;
        if (((bytes[block + (bit >>> 3)] as number) & (1 << (bit & 7))) === 0) return false;
        x = Math.imul(x, FILTER_PROBE_MULTIPLIER);
      }
      return true;
    }
    const m = this.#span;
    const at = this.#bitsAt;
    let h = h1 % m;
    const delta = h2 % m || 1;
    for (let j = this.#k; j > 0; j--) {
      if (((bytes[at + (h >>> 3)] as number) & (1 << (h & 7))) === 0) return false;
      h += delta;
      if (h >= m) h -= m;
    }
    return true;
  }
}

export function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
