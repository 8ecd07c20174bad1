import { xxh32 } from '@kv/record';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BloomView, buildFilter, buildPlainFilter, filterBits, filterBlock, hashKey } from '../src/filter.js';
import { enc, expectKvError, hex } from './helpers.js';

/*
 * The filter block on its own (FORMAT.md, "Filter block"): what buildFilter writes, what
 * BloomView accepts, and how it answers, for the blocked layout new tables get and the plain
 * layout of tables written before it. The reference builders below follow FORMAT.md's formulas
 * with BigInt arithmetic, independently of the Math.imul and modulo code under test.
 */

const FILTER_SEED = 0x6b764246; // "kvBF"
const PATH = 'f.sst';

/** Hash pairs of `keys`, laid out as buildFilter takes them. */
function hashesOf(keys: Uint8Array[]): Uint32Array {
  const out = new Uint32Array(2 * keys.length);
  keys.forEach((key, i) => {
    const { h1, h2 } = hashKey(key);
    out[2 * i] = h1;
    out[2 * i + 1] = h2;
  });
  return out;
}

const keysOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => enc(`${prefix}${i}`));

/** A filter block around `bits`: m, the k word, the bits, xxh32 checksum. */
function block(m: number, kWord: number, bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + bits.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, m, true);
  view.setUint32(4, kWord, true);
  out.set(bits, 8);
  view.setUint32(out.length - 4, xxh32(out.subarray(0, out.length - 4), FILTER_SEED), true);
  return out;
}

/** FORMAT.md: bits x >>> 23 of block (h1 · m / 512) >> 32, for x = h2 · 0x9e3779b9^i mod 2^32, i < k. */
function blockedBitsOf(key: Uint8Array, m: number, k: number): number[] {
  const { h1, h2 } = hashKey(key);
  const base = 512 * Number((BigInt(h1) * BigInt(m / 512)) >> 32n);
  const out: number[] = [];
  for (let i = 0, x = BigInt(h2); i < k; i++, x = (x * 0x9e3779b9n) % 2n ** 32n) out.push(base + Number(x >> 23n));
  return out;
}

/** FORMAT.md, tables written before blocked filters: bits (h1 mod m + i · (h2 mod m or 1)) mod m, i < k. */
function plainBitsOf(key: Uint8Array, m: number, k: number): number[] {
  const { h1, h2 } = hashKey(key);
  const delta = BigInt(h2 % m || 1);
  const out: number[] = [];
  for (let i = 0n; i < BigInt(k); i++) out.push(Number((BigInt(h1 % m) + i * delta) % BigInt(m)));
  return out;
}

/** The bits of m that `keys` set, laid out as FORMAT.md says (bit j: bit j mod 8 of byte j / 8). */
function bitsOf(keys: Uint8Array[], m: number, k: number, bitsOfKey: typeof plainBitsOf): Uint8Array {
  const bits = new Uint8Array(m / 8);
  for (const key of keys) {
    for (const bit of bitsOfKey(key, m, k)) bits[bit >> 3] = (bits[bit >> 3] as number) | (1 << (bit & 7));
  }
  return bits;
}

const isSet = (bits: Uint8Array, bit: number) => (((bits[bit >> 3] as number) >> (bit & 7)) & 1) === 1;

const view = (bytes: Uint8Array) => BloomView.parse(bytes, 0, bytes.length, PATH);
const mayContain = (v: BloomView, key: Uint8Array) => {
  const { h1, h2 } = hashKey(key);
  return v.mayContain(h1, h2);
};

function falsePositiveRate(v: BloomView, absent: Uint8Array[]): number {
  return absent.filter((key) => mayContain(v, key)).length / absent.length;
}

describe('blocked filter (what new tables get)', () => {
  it('sizes the bits in whole 512-bit blocks, at least one', () => {
    expect(filterBits(0, 10)).toBe(512);
    expect(filterBits(51, 10)).toBe(512);
    expect(filterBits(52, 10)).toBe(1024);
    expect(filterBits(1_000_000, 10)).toBe(19_532 * 512);
  });

  it('picks block (h1 · blocks) >> 32 exactly, for every u32 h1 and up to 2^22 blocks', () => {
    const u32 = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0xffff, 0x10000, 0xffffffff));
    const blocks = fc.oneof(fc.integer({ min: 1, max: 2 ** 22 }), fc.constantFrom(1, 2, 3, 2 ** 22 - 1, 2 ** 22));
    fc.assert(
      fc.property(u32, blocks, (h1, n) => filterBlock(h1, n) === Number((BigInt(h1) * BigInt(n)) >> 32n)),
      { numRuns: 20_000 },
    );
  });

  it('writes the bits, k word and checksum FORMAT.md describes, across many blocks', () => {
    const keys = keysOf('k', 5000);
    const bytes = buildFilter(hashesOf(keys), keys.length, 10);
    const m = filterBits(5000, 10);
    expect(m / 512).toBe(98);
    expect(hex(bytes)).toBe(hex(block(m, 0x80000007, bitsOf(keys, m, 7, blockedBitsOf))));
  });

  it('never answers false for a key it holds (any keys, any bits per key)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 24 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        (keys, bitsPerKey) => {
          const v = view(buildFilter(hashesOf(keys), keys.length, bitsPerKey));
          return keys.every((key) => mayContain(v, key));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never answers false for any of 200k keys it holds', () => {
    const keys = keysOf('present-', 200_000);
    const v = view(buildFilter(hashesOf(keys), keys.length, 10));
    expect(keys.filter((key) => !mayContain(v, key)).length).toBe(0);
  });

  it('10 bits per key: 0.7% to 1.2% false positives on 400k absent keys (theory 0.96%)', () => {
    const keys = keysOf('present-', 100_000);
    const v = view(buildFilter(hashesOf(keys), keys.length, 10));
    const rate = falsePositiveRate(v, keysOf('absent-', 400_000));
    expect(rate).toBeGreaterThan(0.007);
    expect(rate).toBeLessThan(0.012);
  });

  it('answers false for every key of an empty filter', () => {
    const v = view(buildFilter(new Uint32Array(0), 0, 10));
    expect(keysOf('absent-', 1000).some((key) => mayContain(v, key))).toBe(false);
  });
});

describe('plain filter (tables written before blocked filters)', () => {
  const keys = keysOf('present-', 20_000);
  const m = 200_000;
  const bytes = block(m, 7, bitsOf(keys, m, 7, plainBitsOf));

  it('buildPlainFilter writes exactly the plain layout (so tests of old tables test the real thing)', () => {
    expect(hex(buildPlainFilter(hashesOf(keys), keys.length, 10))).toBe(hex(bytes));
  });

  it('still parses, holds every key and answers exactly as double hashing over all m bits says', () => {
    const v = view(bytes);
    expect(keys.every((key) => mayContain(v, key))).toBe(true);
    const bits = bytes.subarray(8, 8 + m / 8);
    let positives = 0;
    for (const key of keysOf('absent-', 20_000)) {
      const expected = plainBitsOf(key, m, 7).every((bit) => isSet(bits, bit));
      expect(mayContain(v, key)).toBe(expected);
      if (expected) positives++;
    }
    // Both answers occur, so the agreement above means something.
    expect(positives).toBeGreaterThan(50);
    expect(positives).toBeLessThan(400);
  });

  it('accepts any multiple of 8 bits from 64 (not only whole blocks)', () => {
    const odd = block(72, 7, bitsOf([enc('a')], 72, 7, plainBitsOf));
    expect(mayContain(view(odd), enc('a'))).toBe(true);
  });
});

describe('forged filter k word and bit count', () => {
  /** A plain filter of 576 bits over one key: valid as it is, and not a whole number of blocks. */
  const plain576 = (kWord: number) => block(576, kWord, bitsOf([enc('a')], 576, 7, plainBitsOf));

  it('BlockedFlagOnPartialBlocks: flag set and m not a multiple of 512 is KV_CORRUPTION', () => {
    expect(mayContain(view(plain576(7)), enc('a'))).toBe(true);
    expectKvError(
      () => view(plain576(0x80000007)),
      'KV_CORRUPTION',
      /corrupt table f\.sst at offset 0: blocked filter of 576 bits is not a positive multiple of 512/,
    );
  });

  it('UnknownFlagBits: any of k word bits 24..30 set is KV_CORRUPTION, in either layout', () => {
    for (const kWord of [0x01000007, 0x40000007, 0x81000007, 0xff000007]) {
      const bytes = kWord >= 0x80000000 ? block(512, kWord, new Uint8Array(64)) : plain576(kWord);
      expectKvError(
        () => view(bytes),
        'KV_CORRUPTION',
        /at offset 4: filter k word 0x[0-9a-f]{8} has unknown flag bits/,
      );
    }
  });

  it('ProbesOutOfRange: 0 or more than 30 probes is KV_CORRUPTION, in either layout', () => {
    for (const probes of [0, 31, 0xffffff]) {
      expectKvError(
        () => view(block(512, 0x80000000 + probes, new Uint8Array(64))),
        'KV_CORRUPTION',
        new RegExp(`at offset 4: filter hash count ${probes} out of range`),
      );
      expectKvError(() => view(plain576(probes)), 'KV_CORRUPTION', /filter hash count \d+ out of range/);
    }
    expect(() => view(block(512, 0x80000000 + 30, new Uint8Array(64)))).not.toThrow();
  });

  it('BlockedBitsDisagreeWithLength: m a multiple of 512 that does not fill the block is KV_CORRUPTION', () => {
    expectKvError(
      () => view(block(1024, 0x80000007, new Uint8Array(64))),
      'KV_CORRUPTION',
      /filter of 1024 bits does not fill its 76-byte block/,
    );
  });

  it('ZeroBlocks: a blocked filter of 0 bits is KV_CORRUPTION', () => {
    const bytes = block(512, 0x80000007, new Uint8Array(64));
    new DataView(bytes.buffer).setUint32(0, 0, true);
    new DataView(bytes.buffer).setUint32(72, xxh32(bytes.subarray(0, 72), FILTER_SEED), true);
    expectKvError(() => view(bytes), 'KV_CORRUPTION', /blocked filter of 0 bits/);
  });
});
