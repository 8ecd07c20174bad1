import { xxh32 } from '@kv/record';
import bloom from 'bloom-filters';
import { readU32, writeU32 } from './bytes.js';
import {
  BLOOM_SEED_1,
  BLOOM_SEED_2,
  corruption,
  FILTER_CHECKSUM_SEED,
  FILTER_OVERHEAD_BYTES,
  MAX_FILTER_BITS,
  MAX_FILTER_HASHES,
  MIN_FILTER_BITS,
} from './format.js';

/*
 * Bloom filter of a table (FORMAT.md, "Filter block"). bloom-filters supplies the bit set and
 * the sizing formula; bit indexes come from two xxHash32 values of the key by double hashing
 * (index_i = (h1 + i*h2) mod m), so one hash per engine get serves every table's filter, and
 * probes test the bits where they lie in the mapped file: no JSON, no allocation per probe.
 */

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

/** Hash functions for `bitsPerKey` bits per key: bloom-filters' optimalHashes, ceil(m/n · ln 2). */
export function filterHashes(bitsPerKey: number): number {
  return Math.min(MAX_FILTER_HASHES, Math.max(1, Math.ceil(bitsPerKey * Math.LN2)));
}

/** Bits of a filter over `keys` keys: a multiple of 8 in [MIN_FILTER_BITS, MAX_FILTER_BITS]. */
export function filterBits(keys: number, bitsPerKey: number): number {
  const bits = Math.ceil((keys * bitsPerKey) / 8) * 8;
  return Math.min(MAX_FILTER_BITS, Math.max(MIN_FILTER_BITS, bits));
}

/**
 * Builds the filter block over `count` keys whose hashes are `hashes[2i]`, `hashes[2i + 1]`.
 */
export function buildFilter(hashes: Uint32Array, count: number, bitsPerKey: number): Uint8Array {
  const m = filterBits(count, bitsPerKey);
  const k = filterHashes(bitsPerKey);
  const bits = new bloom.BitSet(m);
  for (let i = 0; i < count; i++) {
    let h = (hashes[2 * i] as number) % m;
    const delta = (hashes[2 * i + 1] as number) % m || 1;
    for (let j = 0; j < k; j++) {
      bits.add(h);
      h += delta;
      if (h >= m) h -= m;
    }
  }
  const out = new Uint8Array(FILTER_OVERHEAD_BYTES + m / 8);
  writeU32(out, 0, m);
  writeU32(out, 4, k);
  out.set(bits.array.subarray(0, m / 8), 8);
  writeU32(out, out.length - 4, xxh32(out.subarray(0, out.length - 4), FILTER_CHECKSUM_SEED));
  return out;
}

/** A verified filter block, probed in place in the table's bytes. */
export class BloomView {
  readonly #bytes: Uint8Array;
  readonly #bitsAt: number;
  readonly #m: number;
  readonly #k: number;

  private constructor(bytes: Uint8Array, bitsAt: number, m: number, k: number) {
    this.#bytes = bytes;
    this.#bitsAt = bitsAt;
    this.#m = m;
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
    const k = readU32(bytes, at + 4);
    if (m % 8 !== 0 || m < MIN_FILTER_BITS || m > MAX_FILTER_BITS || FILTER_OVERHEAD_BYTES + m / 8 !== length) {
      throw corruption(path, at, `filter of ${m} bits does not fill its ${length}-byte block`);
    }
    if (k < 1 || k > MAX_FILTER_HASHES) throw corruption(path, at + 4, `filter hash count ${k} out of range`);
    return new BloomView(bytes, at + 8, m, k);
  }

  /** False when the key with hashes (h1, h2) is certainly absent. Allocates nothing. */
  mayContain(h1: number, h2: number): boolean {
    const m = this.#m;
    const bytes = this.#bytes;
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
