import { DEFAULT_MEMTABLE_OPTIONS, MEMTABLE_ENTRY_OVERHEAD_BYTES, Memtable } from '@kv/memtable';
import { isKvError, KvError, KvRecord, RecordType } from '@kv/record';
import { describe, expect, it } from 'vitest';
import { b, del, keysOf, put } from './helpers.js';

const O = MEMTABLE_ENTRY_OVERHEAD_BYTES;

describe('Memtable put and get', () => {
  it('get returns the record that was put', () => {
    const m = new Memtable();
    const r = put('k', 'v', 1);
    m.put(r);
    expect(m.get(b('k'))).toEqual(r);
    expect(m.count).toBe(1);
  });

  it("put copies the record: changing the caller's bytes afterwards changes nothing", () => {
    const m = new Memtable();
    const key = b('key');
    const value = b('value');
    m.put(new KvRecord({ key, value, seq: 1 }));
    key[0] = 0x78;
    value.fill(0);
    expect(m.get(b('key'))?.valueString()).toBe('value');
    expect(m.get(b('xey'))).toBeUndefined();
    expect(keysOf(m.entries())).toEqual(['key']);
  });

  it('keeps every field of a record: seq, timestamp, type and tombstone', () => {
    const m = new Memtable();
    m.put(new KvRecord({ key: b('h'), value: b('sketch'), seq: 7, timestamp: 1234, type: RecordType.HyperLogLog }));
    m.put(new KvRecord({ key: b('t'), tombstone: true, seq: 2 ** 40, timestamp: 99 }));
    for (const r of [m.get(b('h')), [...m.entries()][0]]) {
      expect(r).toMatchObject({ seq: 7, timestamp: 1234, type: RecordType.HyperLogLog, tombstone: false });
    }
    m.freeze();
    expect([...m.entries({ reverse: true })][0]).toMatchObject({ seq: 2 ** 40, timestamp: 99, tombstone: true });
  });

  it('holds many keys, large records and keys that share long prefixes', () => {
    const m = new Memtable({ thresholdBytes: 1 << 30 });
    const big = new Uint8Array(3 << 20).fill(7);
    m.put(new KvRecord({ key: b('big'), value: big, seq: 1 }));
    for (let i = 0; i < 50_000; i++) m.put(put(`shared-prefix-${String(i).padStart(6, '0')}`, `v${i}`, i + 2));
    expect(m.count).toBe(50_001);
    expect(m.get(b('big'))?.value).toEqual(big);
    expect(m.get(b('shared-prefix-031337'))?.valueString()).toBe('v31337');
    const live = keysOf(m.entries({ gte: b('shared-prefix-049998') }));
    m.freeze();
    const frozen = keysOf(m.entries({ gte: b('shared-prefix-049998') }));
    expect(live).toEqual(['shared-prefix-049998', 'shared-prefix-049999']);
    expect(frozen).toEqual(live);
    expect(keysOf(m.entries())[0]).toBe('big');
  });

  it('get of a missing key is undefined', () => {
    const m = new Memtable();
    m.put(put('a', 'v', 1));
    expect(m.get(b('b'))).toBeUndefined();
    expect(m.get(b('a\x00'))).toBeUndefined();
  });

  it('get finds a key through any view of the same bytes', () => {
    const m = new Memtable();
    m.put(put('key', 'v', 1));
    const backing = b('xxkeyxx');
    expect(m.get(backing.subarray(2, 5))?.seq).toBe(1);
  });

  it('a put with a higher seq overwrites', () => {
    const m = new Memtable();
    m.put(put('k', 'old', 1));
    const newer = put('k', 'new', 2);
    m.put(newer);
    expect(m.get(b('k'))).toEqual(newer);
    expect(m.count).toBe(1);
  });

  it('a tombstone is stored and returned like a value', () => {
    const m = new Memtable();
    m.put(put('k', 'v', 1));
    m.put(del('k', 2));
    expect(m.get(b('k'))?.tombstone).toBe(true);
    expect(m.count).toBe(1);
  });

  it('a tombstone for a key never put is stored, to shadow older tables', () => {
    const m = new Memtable();
    m.put(del('k', 5));
    expect(m.get(b('k'))?.tombstone).toBe(true);
    expect(m.count).toBe(1);
  });

  it('a put with an older seq is ignored', () => {
    const m = new Memtable();
    const newer = put('k', 'new', 5);
    m.put(newer);
    m.put(put('k', 'old', 4));
    expect(m.get(b('k'))).toEqual(newer);
  });

  it('a put with an equal seq is ignored, so replaying a WAL twice changes nothing', () => {
    const m = new Memtable();
    const first = put('k', 'first', 3);
    m.put(first);
    m.put(put('k', 'replayed', 3));
    expect(m.get(b('k'))).toEqual(first);
    expect(m.byteSize).toBe(1 + 5 + O);
  });

  it('an older tombstone does not delete a newer value', () => {
    const m = new Memtable();
    m.put(put('k', 'v', 7));
    m.put(del('k', 6));
    expect(m.get(b('k'))?.tombstone).toBe(false);
  });

  it('the empty key is a key like any other', () => {
    const m = new Memtable();
    m.put(put('', 'v', 1));
    m.put(put('\x00', 'w', 2));
    expect(m.get(b(''))?.seq).toBe(1);
    expect(m.get(b('\x00'))?.seq).toBe(2);
  });

  it('records with the default seq 0 are held', () => {
    const m = new Memtable();
    m.put(KvRecord.fromStrings('k', 'v'));
    expect(m.count).toBe(1);
  });

  it('put and get reject non-byte arguments with TypeError', () => {
    const m = new Memtable();
    expect(() => m.put(null as unknown as KvRecord)).toThrow(TypeError);
    expect(() => m.put({ key: 'k', value: b('v'), seq: 1 } as unknown as KvRecord)).toThrow(TypeError);
    expect(() => m.put({ key: b('k'), value: b('v'), seq: -1 } as unknown as KvRecord)).toThrow(TypeError);
    expect(() => m.get('k' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('Memtable byte accounting', () => {
  it('an empty memtable has byteSize 0', () => {
    expect(new Memtable().byteSize).toBe(0);
  });

  it('each record counts key + value + the entry overhead', () => {
    const m = new Memtable();
    m.put(put('ab', 'cde', 1));
    m.put(put('x', '', 2));
    expect(m.byteSize).toBe(2 + 3 + O + (1 + 0 + O));
  });

  it('an overwrite replaces the old record size exactly', () => {
    const m = new Memtable();
    m.put(put('k', 'a long value', 1));
    m.put(put('k', 'v', 2));
    expect(m.byteSize).toBe(1 + 1 + O);
  });

  it('a delete replaces the value size with the tombstone size', () => {
    const m = new Memtable();
    m.put(put('key', 'value', 1));
    m.put(del('key', 2));
    expect(m.byteSize).toBe(3 + 0 + O);
  });

  it('an ignored put leaves byteSize unchanged', () => {
    const m = new Memtable();
    m.put(put('k', 'v', 2));
    m.put(put('k', 'a much longer value', 1));
    expect(m.byteSize).toBe(1 + 1 + O);
  });
});

describe('Memtable isFull', () => {
  it('is false below the threshold and true once byteSize reaches it', () => {
    const m = new Memtable({ thresholdBytes: 2 * (1 + 1 + O) });
    m.put(put('a', '1', 1));
    expect(m.isFull).toBe(false);
    m.put(put('b', '2', 2));
    expect(m.byteSize).toBe(m.thresholdBytes);
    expect(m.isFull).toBe(true);
  });

  it('counts replaced versions: overwriting one key fills the memtable, its byteSize does not grow', () => {
    const m = new Memtable({ thresholdBytes: 10 * (1 + 10 + O) });
    for (let seq = 1; seq <= 9; seq++) m.put(put('a', '0123456789', seq));
    expect(m.byteSize).toBe(1 + 10 + O);
    expect(m.storedBytes).toBe(9 * (1 + 10 + O));
    expect(m.isFull).toBe(false);
    m.put(del('a', 10));
    expect(m.byteSize).toBe(1 + O);
    expect(m.storedBytes).toBe(9 * (1 + 10 + O) + 1 + O);
    m.put(put('a', '0123456789', 11));
    expect(m.isFull).toBe(true);
  });

  it('an ignored put adds nothing to storedBytes', () => {
    const m = new Memtable();
    m.put(put('k', 'v', 2));
    m.put(put('k', 'older', 1));
    m.put(put('k', 'same seq', 2));
    expect(m.storedBytes).toBe(1 + 1 + O);
  });

  it('the default threshold is 4 MiB', () => {
    expect(new Memtable().thresholdBytes).toBe(4 * 1024 * 1024);
    expect(DEFAULT_MEMTABLE_OPTIONS.thresholdBytes).toBe(4 * 1024 * 1024);
  });
});

describe('Memtable seq bounds', () => {
  it('minSeq and maxSeq are 0 when empty', () => {
    const m = new Memtable();
    expect([m.minSeq, m.maxSeq]).toEqual([0, 0]);
  });

  it('track the smallest and largest seq held, whatever the put order', () => {
    const m = new Memtable();
    m.put(put('a', '', 5));
    m.put(put('b', '', 3));
    m.put(put('c', '', 9));
    expect([m.minSeq, m.maxSeq]).toEqual([3, 9]);
  });

  it('minSeq moves up when the record holding it is overwritten', () => {
    const m = new Memtable();
    m.put(put('a', '', 1));
    m.put(put('b', '', 2));
    m.put(put('a', '', 3));
    expect([m.minSeq, m.maxSeq]).toEqual([2, 3]);
  });
});

describe('Memtable freeze', () => {
  it('a frozen memtable rejects puts with KV_INVALID_ARGUMENT', () => {
    const m = new Memtable();
    m.freeze();
    expect(m.frozen).toBe(true);
    let err: unknown;
    try {
      m.put(put('k', 'v', 1));
    } catch (e) {
      err = e;
    }
    expect(isKvError(err, 'KV_INVALID_ARGUMENT')).toBe(true);
    expect(m.count).toBe(0);
  });

  it('a frozen memtable still answers reads', () => {
    const m = new Memtable();
    m.put(put('k', 'v', 1));
    m.freeze();
    m.freeze();
    expect(m.get(b('k'))?.seq).toBe(1);
    expect([...m.entries()]).toHaveLength(1);
  });
});

describe('Memtable options', () => {
  it('accepts a positive integer thresholdBytes', () => {
    expect(new Memtable({ thresholdBytes: 1 }).thresholdBytes).toBe(1);
  });

  it('an undefined thresholdBytes means the default', () => {
    expect(new Memtable({ thresholdBytes: undefined } as unknown as {}).thresholdBytes).toBe(4 * 1024 * 1024);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects thresholdBytes %s with KV_INVALID_ARGUMENT',
    (t) => {
      expect(() => new Memtable({ thresholdBytes: t })).toThrow(KvError);
      expect(() => new Memtable({ thresholdBytes: t })).toThrow(/thresholdBytes must be a positive integer/);
    },
  );

  it('rejects a thresholdBytes of the wrong type with TypeError', () => {
    expect(() => new Memtable({ thresholdBytes: '4096' as unknown as number })).toThrow(TypeError);
  });

  it('rejects options that are not an object with TypeError', () => {
    expect(() => new Memtable(7 as unknown as {})).toThrow(TypeError);
    expect(() => new Memtable(null as unknown as {})).toThrow(TypeError);
  });

  it('does not modify the caller options object', () => {
    const options = Object.freeze({ thresholdBytes: 100 });
    expect(new Memtable(options).thresholdBytes).toBe(100);
  });
});
