import { Memtable } from '@kv/memtable';
import { encodedSize, encodeRecordInto, isKvError, KvRecord, RecordType } from '@kv/record';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { b, del, keysOf, put } from './helpers.js';

/** Encodes `records` one after another, `gap` bytes apart, as a WAL segment holds them. */
function encode(records: readonly KvRecord[], gap = 3): { bytes: Uint8Array; spans: Uint32Array } {
  let total = gap;
  for (const r of records) total += encodedSize(r) + gap;
  const bytes = new Uint8Array(total).fill(0xee);
  const spans = new Uint32Array(2 * records.length);
  let at = gap;
  records.forEach((r, i) => {
    spans[2 * i] = at;
    at += encodeRecordInto(r, bytes, at);
    spans[2 * i + 1] = at;
    at += gap;
  });
  return { bytes, spans };
}

/** Everything observable of a memtable, to compare two built different ways. */
function observe(m: Memtable, keys: readonly Uint8Array[]) {
  return {
    entries: [...m.entries()].map((r) => [r.key, r.value, r.seq, r.timestamp, r.tombstone, r.type]),
    reverse: keysOf(m.entries({ reverse: true })),
    gets: keys.map((k) => m.get(k)?.seq),
    count: m.count,
    byteSize: m.byteSize,
    storedBytes: m.storedBytes,
    minSeq: m.minSeq,
    maxSeq: m.maxSeq,
  };
}

const KEYS = ['', '\x00', 'a', 'a\x00', 'ab', 'b', '\xff', 'x'.repeat(70)].map(b);

const recordArb = fc.record({
  key: fc.constantFrom(...KEYS),
  value: fc.uint8Array({ maxLength: 90 }),
  tombstone: fc.boolean(),
  seq: fc.integer({ min: 1, max: 60 }),
  timestamp: fc.nat(),
  type: fc.constantFrom(RecordType.Plain, RecordType.HyperLogLog),
});

describe('Memtable.putEncoded', () => {
  it('stores what put stores, record by record, whether it copies or adopts, mixed with puts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(recordArb, { maxLength: 40 }), fc.constantFrom('put', 'copy', 'adopt')), {
          maxLength: 8,
        }),
        (groups) => {
          const byPut = new Memtable({ thresholdBytes: 1 << 30 });
          const mixed = new Memtable({ thresholdBytes: 1 << 30 });
          for (const [group, how] of groups) {
            const records = group.map((r) => new KvRecord(r.tombstone ? { ...r, value: new Uint8Array(0) } : r));
            for (const r of records) byPut.put(r);
            if (how === 'put') {
              for (const r of records) mixed.put(r);
            } else {
              const { bytes, spans } = encode(records);
              expect(mixed.putEncoded(bytes, spans, 0, records.length, { adopt: how === 'adopt' })).toBe(
                records.length,
              );
            }
          }
          expect(observe(mixed, KEYS)).toEqual(observe(byPut, KEYS));
          mixed.freeze();
          byPut.freeze();
          expect(observe(mixed, KEYS)).toEqual(observe(byPut, KEYS));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('adopting keeps views of the given bytes; copying owns its bytes', () => {
    const records = [put('k1', 'first', 1), put('k2', 'second', 2)];
    const adopted = new Memtable();
    const copied = new Memtable();
    const a = encode(records);
    const c = encode(records);
    adopted.putEncoded(a.bytes, a.spans, 0, 2, { adopt: true });
    copied.putEncoded(c.bytes, c.spans, 0, 2);
    expect(adopted.get(b('k2'))?.value.buffer).toBe(a.bytes.buffer);
    expect(copied.get(b('k2'))?.value.buffer).not.toBe(c.bytes.buffer);
    c.bytes.fill(0);
    expect(keysOf(copied.entries())).toEqual(['k1', 'k2']);
    expect(copied.get(b('k1'))?.valueString()).toBe('first');
    // New puts after adopting go to the arena's own chunks, and both stay readable.
    adopted.put(put('k0', 'zero', 3));
    adopted.putEncoded(encode([del('k1', 4)]).bytes, encode([del('k1', 4)]).spans, 0, 1);
    expect(keysOf(adopted.entries())).toEqual(['k0', 'k1', 'k2']);
    expect(adopted.get(b('k1'))?.tombstone).toBe(true);
    expect(adopted.get(b('k0'))?.valueString()).toBe('zero');
  });

  it('starts from `from`, and stops after the record that fills the memtable', () => {
    const records = Array.from({ length: 50 }, (_, i) =>
      put(`key${String(i).padStart(2, '0')}`, 'v'.repeat(20), i + 1),
    );
    const { bytes, spans } = encode(records);
    const perRecord = new Memtable();
    perRecord.put(records[0] as KvRecord);
    const threshold = 10 * perRecord.storedBytes;
    const first = new Memtable({ thresholdBytes: threshold });
    const next = first.putEncoded(bytes, spans, 5, 50, { adopt: true });
    expect(next).toBe(15);
    expect(first.isFull).toBe(true);
    expect(first.count).toBe(10);
    const second = new Memtable({ thresholdBytes: 1 << 20 });
    expect(second.putEncoded(bytes, spans, next, 50)).toBe(50);
    expect(keysOf(second.entries())).toEqual(records.slice(15).map((r) => r.keyString()));
    expect(second.putEncoded(bytes, spans, 50, 50)).toBe(50);
  });

  it('a corrupt header or a span that does not fit is KV_CORRUPTION naming the record; earlier ones stay', () => {
    const records = [put('a', '1', 1), put('b', '2', 2), put('c', '3', 3)];
    const cases: [string, (bytes: Uint8Array, spans: Uint32Array) => void, RegExp][] = [
      [
        'unknown version',
        (bytes, spans) => void (bytes[(spans[4] as number) + 4] = 9),
        /encoded record 2: .*version 9/,
      ],
      [
        'span too short',
        (_bytes, spans) => void (spans[5] = (spans[5] as number) - 1),
        /encoded record 2: .*runs past/,
      ],
      [
        'span too long',
        (_bytes, spans) => void (spans[5] = (spans[5] as number) + 1),
        /record 2: 34 bytes decoded from a span of 35/,
      ],
      ['span past the bytes', (bytes, spans) => void (spans[5] = bytes.length + 1), /record 2: span .* outside/],
    ];
    for (const [what, damage, message] of cases) {
      const { bytes, spans } = encode(records);
      damage(bytes, spans);
      const m = new Memtable();
      let err: unknown;
      try {
        m.putEncoded(bytes, spans, 0, 3, { adopt: true });
      } catch (e) {
        err = e;
      }
      expect(isKvError(err, 'KV_CORRUPTION'), what).toBe(true);
      expect((err as Error).message, what).toMatch(message);
      expect(keysOf(m.entries()), what).toEqual(['a', 'b']);
    }
  });

  it('bad arguments are TypeErrors or RangeErrors, and a frozen memtable refuses', () => {
    const { bytes, spans } = encode([put('a', '1', 1)]);
    const m = new Memtable();
    expect(() => m.putEncoded([1, 2] as unknown as Uint8Array, spans, 0, 1)).toThrow(TypeError);
    expect(() => m.putEncoded(bytes, [0, 1] as unknown as Uint32Array, 0, 1)).toThrow(TypeError);
    expect(() => m.putEncoded(bytes, spans, 0, 2)).toThrow(RangeError);
    expect(() => m.putEncoded(bytes, spans, 1, 0)).toThrow(RangeError);
    expect(() => m.putEncoded(bytes, spans, -1, 1)).toThrow(RangeError);
    expect(m.count).toBe(0);
    m.freeze();
    let err: unknown;
    try {
      m.putEncoded(bytes, spans, 0, 1);
    } catch (e) {
      err = e;
    }
    expect(isKvError(err, 'KV_INVALID_ARGUMENT')).toBe(true);
  });

  it('honours the record limits it is given', () => {
    const { bytes, spans } = encode([put('a-long-key', '1', 1)]);
    expect(() =>
      new Memtable().putEncoded(bytes, spans, 0, 1, { limits: { maxKeyBytes: 4, maxValueBytes: 8 } }),
    ).toThrow(/key length 10 over the limit 4/);
  });

  it('reserve sizes ahead without changing what is stored, and refuses a bad count', () => {
    const records = Array.from({ length: 3000 }, (_, i) => put(`k${i % 1000}`, `v${i}`, i + 1));
    const { bytes, spans } = encode(records);
    const reserved = new Memtable({ thresholdBytes: 1 << 30 });
    reserved.reserve(5000);
    reserved.putEncoded(bytes, spans, 0, 1500, { adopt: true });
    reserved.reserve(10); // never shrinks
    reserved.putEncoded(bytes, spans, 1500, 3000, { adopt: true });
    const plain = new Memtable({ thresholdBytes: 1 << 30 });
    for (const r of records) plain.put(r);
    const keys = records.slice(0, 1000).map((r) => r.key);
    expect(observe(reserved, keys)).toEqual(observe(plain, keys));
    expect(() => reserved.reserve(-1)).toThrow(TypeError);
    expect(() => reserved.reserve(1.5)).toThrow(TypeError);
  });

  it('getValue copies the value out, of adopted and copied records alike; null for a tombstone', () => {
    const { bytes, spans } = encode([put('k1', 'first', 1), del('k2', 2)]);
    const m = new Memtable();
    m.putEncoded(bytes, spans, 0, 2, { adopt: true });
    m.put(put('k3', 'third', 3));
    const v = m.getValue(b('k1'));
    expect(Buffer.from(v as Uint8Array).toString()).toBe('first');
    (v as Uint8Array).fill(0x41);
    expect(m.get(b('k1'))?.valueString()).toBe('first');
    expect(Buffer.from(bytes).includes(Buffer.from('first'))).toBe(true);
    const third = m.getValue(b('k3')) as Uint8Array;
    third.fill(0x42);
    expect(m.get(b('k3'))?.valueString()).toBe('third');
    expect(m.getValue(b('k2'))).toBeNull();
    expect(m.getValue(b('nope'))).toBeUndefined();
    expect(() => m.getValue('k1' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('minStoredSeq counts replaced versions, which minSeq does not', () => {
    const m = new Memtable();
    expect(m.minStoredSeq).toBe(0);
    m.put(put('k', 'v1', 5));
    m.put(put('j', 'w', 7));
    m.put(put('k', 'v2', 9)); // replaces seq 5
    expect(m.minSeq).toBe(7);
    expect(m.minStoredSeq).toBe(5);
    const { bytes, spans } = encode([put('a', '1', 3), put('a', '2', 4)]);
    m.putEncoded(bytes, spans, 0, 2, { adopt: true });
    expect(m.minSeq).toBe(4);
    expect(m.minStoredSeq).toBe(3);
    m.put(put('z', 'old', 1)); // a new key with an older seq is stored
    expect(m.minStoredSeq).toBe(1);
    m.put(put('k', 'stale', 0)); // an older version of a held key is ignored, and counts for nothing
    expect(m.minStoredSeq).toBe(1);
  });
});
