import { SHORT_INPUT_BYTES, xxh32, xxh32Js, xxh32Range, xxh32Wasm } from '@kv/record';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('xxh32', () => {
  it('matches the published test vectors', () => {
    expect(xxh32Js(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32Js(ascii('abc'))).toBe(0x32d153ff);
    expect(xxh32Js(ascii('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
    expect(xxh32Wasm(ascii('abc'))).toBe(0x32d153ff);
  });

  it('the JavaScript and wasm versions agree on every length and seed', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 2 * SHORT_INPUT_BYTES }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.nat(64),
        (bytes, seed, skip) => {
          // Views at an offset too: hashing must read only the view's own bytes.
          const view = bytes.subarray(Math.min(skip, bytes.length));
          expect(xxh32Js(view, seed)).toBe(xxh32Wasm(view, seed));
          expect(xxh32(view, seed)).toBe(xxh32Wasm(view, seed));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('xxh32Range hashes a range in place exactly as the subarray would be hashed', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 2 * SHORT_INPUT_BYTES + 40 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (bytes, a, b, seed) => {
          const start = a % (bytes.length + 1);
          const end = start + (b % (bytes.length - start + 1));
          expect(xxh32Range(bytes, start, end, seed)).toBe(xxh32Wasm(bytes.subarray(start, end), seed));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('xxh32Range refuses a range outside the bytes', () => {
    const bytes = new Uint8Array(10);
    expect(() => xxh32Range(bytes, 4, 11)).toThrow(RangeError);
    expect(() => xxh32Range(bytes, 5, 4)).toThrow(RangeError);
    expect(() => xxh32Range(bytes, -1, 4)).toThrow(RangeError);
  });

  it('every single-bit flip of a short input changes the hash', () => {
    const base = Uint8Array.from({ length: 37 }, (_, i) => (i * 29 + 3) & 0xff);
    const h = xxh32(base, 7);
    for (let bit = 0; bit < base.length * 8; bit++) {
      const flipped = base.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(xxh32(flipped, 7)).not.toBe(h);
    }
  });
});
