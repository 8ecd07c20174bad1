import { describe, expect, it } from 'vitest';
import { compareBytes, isRecordType, KvError, KvRecord, RecordType, toBytes } from '@kv/record';

describe('KvRecord', () => {
  it('fromStrings makes a plain UTF-8 put', () => {
    const r = KvRecord.fromStrings('Key01', 'Väl');
    expect(r.keyString()).toBe('Key01');
    expect(r.valueString()).toBe('Väl');
    expect(r.tombstone).toBe(false);
    expect(r.type).toBe(RecordType.Plain);
  });

  it('tombstoneFor makes a delete marker with an empty value', () => {
    const r = KvRecord.tombstoneFor('k', 9);
    expect(r.tombstone).toBe(true);
    expect(r.value.length).toBe(0);
    expect(r.seq).toBe(9);
  });

  it('rejects wrong argument types with TypeError', () => {
    expect(() => KvRecord.fromStrings(1 as unknown as string, 'v')).toThrow(TypeError);
    expect(() => new KvRecord({ key: {} as unknown as string })).toThrow(/key must be a string or a Uint8Array/);
    expect(() => new KvRecord({ key: 'k', seq: -1 })).toThrow(TypeError);
    expect(() => new KvRecord({ key: 'k', seq: 1.5 })).toThrow(TypeError);
    expect(() => new KvRecord({ key: 'k', type: 9 as RecordType })).toThrow(TypeError);
    expect(() => new KvRecord({ key: 'k', value: 'v', tombstone: true })).toThrow(/tombstone carries no value/);
  });

  it('isRecordType accepts exactly the enum values', () => {
    for (const t of [RecordType.Plain, RecordType.HyperLogLog, RecordType.CountMinSketch])
      expect(isRecordType(t)).toBe(true);
    for (const t of [-1, 3, 1.5, Number.NaN, Infinity, '1', null, undefined, 'Plain'])
      expect(isRecordType(t)).toBe(false);
    expect(() => new KvRecord({ key: 'k', type: 1.5 as RecordType })).toThrow(/type must be a RecordType/);
    expect(new KvRecord({ key: 'k', type: RecordType.CountMinSketch }).type).toBe(RecordType.CountMinSketch);
  });

  it('KvError carries a stable code, a name and a cause', () => {
    const cause = new Error('disk');
    const err = new KvError('KV_IO_ERROR', 'write failed', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('KV_IO_ERROR');
    expect(err.name).toBe('KvError');
    expect(err.cause).toBe(cause);
  });
});

describe('bytes', () => {
  it('compareBytes is memcmp order with shorter-prefix first', () => {
    expect(compareBytes(toBytes('a'), toBytes('b'))).toBeLessThan(0);
    expect(compareBytes(toBytes('ab'), toBytes('a'))).toBeGreaterThan(0);
    expect(compareBytes(new Uint8Array([0xff]), toBytes('z'))).toBeGreaterThan(0);
    expect(compareBytes(toBytes('same'), toBytes('same'))).toBe(0);
  });
});

describe('KeyRange', async () => {
  const { inRange } = await import('@kv/record');
  const k = (s: string) => toBytes(s);
  it('applies exclusive and inclusive bounds', () => {
    expect(inRange(k('b'), { gt: k('a'), lt: k('c') })).toBe(true);
    expect(inRange(k('a'), { gt: k('a') })).toBe(false);
    expect(inRange(k('a'), { gte: k('a') })).toBe(true);
    expect(inRange(k('c'), { lt: k('c') })).toBe(false);
    expect(inRange(k('c'), { lte: k('c') })).toBe(true);
    expect(inRange(k('anything'), {})).toBe(true);
  });
});
