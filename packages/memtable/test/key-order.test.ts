import { Memtable } from '@kv/memtable';
import { compareBytes, KvRecord } from '@kv/record';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Bytes that stress the claim: 0x00, 0xff, the 0x7f/0x80 boundary, and shared prefixes. */
const byteArb = fc.oneof(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff), fc.integer({ min: 0, max: 255 }));
const keyArb = fc.array(byteArb, { maxLength: 40 }).map((a) => Uint8Array.from(a));

const latin1 = (k: Uint8Array) => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');

describe('latin1 key strings order like bytes', () => {
  it('comparing latin1 strings with < gives the sign of compareBytes', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (x, y) => {
        const [sx, sy] = [latin1(x), latin1(y)];
        const stringOrder = sx < sy ? -1 : sx > sy ? 1 : 0;
        expect(stringOrder).toBe(Math.sign(compareBytes(x, y)));
      }),
      { numRuns: 2000 },
    );
  });

  it('the memtable yields random keys in compareBytes order, short and long keys alike', () => {
    // Keys up to 40 bytes cross the 32-byte switch between the two key-string conversions.
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { selector: latin1, maxLength: 60 }), (keys) => {
        const m = new Memtable();
        for (const [i, key] of keys.entries()) m.put(new KvRecord({ key, seq: i + 1 }));
        const expected = [...keys].sort(compareBytes).map(latin1);
        expect([...m.entries()].map((r) => latin1(r.key))).toEqual(expected);
        for (const key of keys) expect(m.get(Uint8Array.from(key))?.key).toBe(key);
      }),
      { numRuns: 500 },
    );
  });
});
