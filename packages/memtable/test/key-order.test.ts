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
        for (const key of keys) expect(m.get(Uint8Array.from(key))?.key).toEqual(key);
        // Frozen, the order comes from sorting arena ids by key prefix, then by whole key.
        m.freeze();
        expect([...m.entries()].map((r) => latin1(r.key))).toEqual(expected);
        expect([...m.entries({ reverse: true })].map((r) => latin1(r.key))).toEqual([...expected].reverse());
      }),
      { numRuns: 500 },
    );
  });

  it('a frozen memtable sorts thousands of keys bytewise, with shared prefixes and trailing zero bytes', () => {
    // Past 256 keys a frozen memtable radix-sorts six key bytes a round; keys drawn from a few
    // byte values share long prefixes and differ by trailing 0x00, which the digits pad with.
    const byte = fc.constantFrom(0x00, 0x01, 0x61, 0x7f, 0x80, 0xff);
    const key = fc
      .uint8Array({ minLength: 1, maxLength: 20 })
      .chain((k) => fc.array(byte, { minLength: k.length, maxLength: k.length }).map((a) => Uint8Array.from(a)));
    fc.assert(
      fc.property(fc.uniqueArray(key, { selector: latin1, minLength: 257, maxLength: 3000 }), (keys) => {
        const m = new Memtable();
        for (const [i, k] of keys.entries()) m.put(new KvRecord({ key: k, seq: i + 1 }));
        m.freeze();
        expect([...m.entries()].map((r) => latin1(r.key))).toEqual([...keys].sort(compareBytes).map(latin1));
      }),
      { numRuns: 40 },
    );
  });
});
