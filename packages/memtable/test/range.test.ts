import { Memtable } from '@kv/memtable';
import { inRange, type KeyRange } from '@kv/record';
import { describe, expect, it } from 'vitest';
import { b, del, keysOf, put } from './helpers.js';

/** A memtable holding keys b, d, f. */
function bdf(): Memtable {
  const m = new Memtable();
  m.put(put('d', '', 1));
  m.put(put('b', '', 2));
  m.put(put('f', '', 3));
  return m;
}

const scan = (m: Memtable, range?: KeyRange) => keysOf(m.entries(range));

describe('Memtable.entries bounds', () => {
  it('without a range yields every key ascending', () => {
    expect(scan(bdf())).toEqual(['b', 'd', 'f']);
  });

  it('with reverse yields every key descending', () => {
    expect(scan(bdf(), { reverse: true })).toEqual(['f', 'd', 'b']);
  });

  it('gte a present key includes it', () => {
    expect(scan(bdf(), { gte: b('d') })).toEqual(['d', 'f']);
  });

  it('gt a present key excludes it', () => {
    expect(scan(bdf(), { gt: b('d') })).toEqual(['f']);
  });

  it('lte a present key includes it', () => {
    expect(scan(bdf(), { lte: b('d') })).toEqual(['b', 'd']);
  });

  it('lt a present key excludes it', () => {
    expect(scan(bdf(), { lt: b('d') })).toEqual(['b']);
  });

  it('reverse honours inclusive and exclusive bounds on both sides', () => {
    const m = bdf();
    expect(scan(m, { gte: b('b'), lte: b('f'), reverse: true })).toEqual(['f', 'd', 'b']);
    expect(scan(m, { gt: b('b'), lt: b('f'), reverse: true })).toEqual(['d']);
    expect(scan(m, { lt: b('d'), reverse: true })).toEqual(['b']);
    expect(scan(m, { gt: b('d'), reverse: true })).toEqual(['f']);
  });

  it('bounds that are not present keys cut between neighbours', () => {
    const m = bdf();
    expect(scan(m, { gt: b('c'), lt: b('e') })).toEqual(['d']);
    expect(scan(m, { gte: b('c'), lte: b('e') })).toEqual(['d']);
    expect(scan(m, { gte: b('c'), lte: b('e'), reverse: true })).toEqual(['d']);
    expect(scan(m, { gt: b('a'), lt: b('z'), reverse: true })).toEqual(['f', 'd', 'b']);
  });

  it('a range below the first key or above the last key is empty', () => {
    const m = bdf();
    expect(scan(m, { lt: b('b') })).toEqual([]);
    expect(scan(m, { lt: b('b'), reverse: true })).toEqual([]);
    expect(scan(m, { gt: b('f') })).toEqual([]);
    expect(scan(m, { gt: b('f'), reverse: true })).toEqual([]);
    expect(scan(m, { gte: b('g'), reverse: true })).toEqual([]);
  });

  it('a range whose lower bound is above its upper bound is empty', () => {
    const m = bdf();
    expect(scan(m, { gte: b('f'), lte: b('b') })).toEqual([]);
    expect(scan(m, { gte: b('f'), lte: b('b'), reverse: true })).toEqual([]);
  });

  it('gt and lt of the same key is empty; gte and lte of it is that key', () => {
    const m = bdf();
    expect(scan(m, { gt: b('d'), lt: b('d') })).toEqual([]);
    expect(scan(m, { gte: b('d'), lte: b('d'), reverse: true })).toEqual(['d']);
  });

  it('an empty memtable yields nothing for any range', () => {
    const m = new Memtable();
    expect(scan(m)).toEqual([]);
    expect(scan(m, { reverse: true })).toEqual([]);
    expect(scan(m, { gte: b('a'), lt: b('z'), reverse: true })).toEqual([]);
  });

  it('when both forms of a bound are given the stricter one wins', () => {
    const m = bdf();
    expect(scan(m, { gt: b('d'), gte: b('b') })).toEqual(['f']);
    expect(scan(m, { gt: b('b'), gte: b('d') })).toEqual(['d', 'f']);
    expect(scan(m, { lt: b('d'), lte: b('f') })).toEqual(['b']);
    expect(scan(m, { lt: b('f'), lte: b('d'), reverse: true })).toEqual(['d', 'b']);
  });

  it('every combination of bounds matches inRange, forward and reverse', () => {
    const m = bdf();
    const all = [...m.entries()];
    const points = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map(b);
    const options = [undefined, ...points];
    for (const gt of options)
      for (const gte of options)
        for (const lt of options)
          for (const lte of options)
            for (const reverse of [false, true]) {
              const range: KeyRange = { gt, gte, lt, lte, reverse };
              const expected = keysOf(all.filter((r) => inRange(r.key, range)));
              if (reverse) expected.reverse();
              expect(scan(m, range), JSON.stringify({ gt, gte, lt, lte, reverse })).toEqual(expected);
            }
  });
});

describe('Memtable.entries order', () => {
  it('orders keys bytewise: a prefix first, 0x00 lowest and 0xff highest', () => {
    const m = new Memtable();
    const keys = ['b', 'a\xff', 'a', '\xff', 'a\x00', '', '\x00', 'a\x00\x00', '\x7f', '\x80'];
    for (const [i, k] of keys.entries()) m.put(put(k, '', i + 1));
    const ascending = ['', '\x00', 'a', 'a\x00', 'a\x00\x00', 'a\xff', 'b', '\x7f', '\x80', '\xff'];
    expect(scan(m)).toEqual(ascending);
    expect(scan(m, { reverse: true })).toEqual([...ascending].reverse());
  });

  it('bounds around 0x00 and 0xff bytes are exact', () => {
    const m = new Memtable();
    for (const [i, k] of ['a', 'a\x00', 'a\xff', 'b'].entries()) m.put(put(k, '', i + 1));
    expect(scan(m, { gt: b('a'), lt: b('a\xff') })).toEqual(['a\x00']);
    expect(scan(m, { gte: b('a\x00'), lte: b('a\xff\xff'), reverse: true })).toEqual(['a\xff', 'a\x00']);
  });

  it('yields each record stored, tombstones included', () => {
    const m = bdf();
    m.put(put('d', 'newer', 10));
    m.put(del('b', 11));
    const records = [...m.entries()];
    expect(records.map((r) => [r.seq, r.tombstone])).toEqual([
      [11, true],
      [10, false],
      [3, false],
    ]);
  });
});

describe('Memtable.entries iteration', () => {
  it('is lazy: the first record comes before the rest are read', () => {
    const m = bdf();
    const it = m.entries();
    expect(keysOf([it.next().value!])).toEqual(['b']);
    expect(keysOf(it)).toEqual(['d', 'f']);
  });

  it('sees the memtable as it was at the call, even when puts happen while iterating', () => {
    const m = new Memtable();
    for (let i = 0; i < 1000; i++) m.put(put(String(i).padStart(4, '0'), '', i + 1));
    const seen: string[] = [];
    let seq = 2000;
    for (const r of m.entries()) {
      seen.push(String.fromCharCode(...r.key));
      m.put(put(`${String.fromCharCode(...r.key)}x`, '', seq++));
    }
    expect(seen).toHaveLength(1000);
    expect(m.count).toBe(2000);
  });

  it('rejects bounds that are not Uint8Array with TypeError', () => {
    const m = bdf();
    expect(() => m.entries({ gt: 'a' as unknown as Uint8Array })).toThrow(TypeError);
    expect(() => m.entries({ reverse: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => m.entries(5 as unknown as KeyRange)).toThrow(TypeError);
  });
});
