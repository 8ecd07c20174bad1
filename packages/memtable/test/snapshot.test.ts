import { Memtable } from '@kv/memtable';
import { describe, expect, it } from 'vitest';
import { b, del, keysOf, put } from './helpers.js';

function abc(): Memtable {
  const m = new Memtable();
  m.put(put('a', 'a1', 1));
  m.put(put('b', 'b1', 2));
  m.put(put('c', 'c1', 3));
  return m;
}

const values = (records: Iterable<{ valueString(): string; tombstone: boolean }>) =>
  Array.from(records, (r) => (r.tombstone ? '(deleted)' : r.valueString()));

describe('Memtable.snapshot isolation', () => {
  it('a snapshot does not see keys put after it', () => {
    const m = abc();
    const snap = m.snapshot();
    m.put(put('bb', 'new', 4));
    m.put(put('0', 'new', 5));
    expect(keysOf(snap.entries())).toEqual(['a', 'b', 'c']);
    expect(snap.get(b('bb'))).toBeUndefined();
    expect(snap.count).toBe(3);
  });

  it('a snapshot keeps the old value of a key overwritten after it', () => {
    const m = abc();
    const snap = m.snapshot();
    m.put(put('b', 'b2', 4));
    expect(snap.get(b('b'))?.valueString()).toBe('b1');
    expect(values(snap.entries())).toEqual(['a1', 'b1', 'c1']);
    expect(values(snap.entries({ reverse: true }))).toEqual(['c1', 'b1', 'a1']);
  });

  it('a snapshot keeps the value of a key deleted after it', () => {
    const m = abc();
    const snap = m.snapshot();
    m.put(del('c', 4));
    expect(snap.get(b('c'))?.tombstone).toBe(false);
    expect(values(snap.entries({ gte: b('c') }))).toEqual(['c1']);
  });

  it('the memtable sees its own puts after a snapshot', () => {
    const m = abc();
    m.snapshot();
    m.put(put('b', 'b2', 4));
    m.put(put('d', 'd1', 5));
    expect(values(m.entries())).toEqual(['a1', 'b2', 'c1', 'd1']);
    expect(m.get(b('b'))?.valueString()).toBe('b2');
  });

  it('snapshots taken at different times are independent', () => {
    const m = abc();
    const first = m.snapshot();
    m.put(put('b', 'b2', 4));
    const second = m.snapshot();
    m.put(put('b', 'b3', 5));
    expect(first.get(b('b'))?.valueString()).toBe('b1');
    expect(second.get(b('b'))?.valueString()).toBe('b2');
    expect(m.get(b('b'))?.valueString()).toBe('b3');
  });

  it('a snapshot survives many later puts that split tree nodes', () => {
    const m = abc();
    const snap = m.snapshot();
    for (let i = 0; i < 5000; i++) m.put(put(`k${i}`, 'v', 10 + i));
    for (let i = 0; i < 5000; i += 7) m.put(del(`k${i}`, 10_000 + i));
    expect(keysOf(snap.entries())).toEqual(['a', 'b', 'c']);
    expect(snap.count).toBe(3);
    expect(m.count).toBe(5003);
  });

  it('a snapshot of an empty memtable stays empty', () => {
    const m = new Memtable();
    const snap = m.snapshot();
    m.put(put('a', 'v', 1));
    expect([...snap.entries()]).toEqual([]);
    expect(snap.count).toBe(0);
  });

  it('a snapshot of a frozen memtable reads the same records', () => {
    const m = abc();
    m.freeze();
    const snap = m.snapshot();
    expect(snap.get(b('b'))).toEqual(m.get(b('b')));
    expect(keysOf(snap.entries({ gt: b('a'), reverse: true }))).toEqual(['c', 'b']);
    expect(snap.count).toBe(3);
  });

  it('snapshot get rejects a key that is not a Uint8Array with TypeError', () => {
    const snap = abc().snapshot();
    expect(() => snap.get('a' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
