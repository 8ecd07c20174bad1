import { join } from 'node:path';
import { KvRecord } from '@kv/record';
import { Table, writeTable } from '@kv/sstable';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, expectKvError, expectSameRecord, numbered, tempDir } from './helpers.js';

describe('Table', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  it('info describes the table: counts, key range, sequence range, size', async () => {
    const records = [
      new KvRecord({ key: 'b', value: '1', seq: 30, timestamp: 0 }),
      new KvRecord({ key: 'c', tombstone: true, seq: 10, timestamp: 0 }),
      new KvRecord({ key: 'd', value: '2', seq: 20, timestamp: 0 }),
    ];
    const path = join(dir, 'info.sst');
    const written = await writeTable(path, records);
    const table = await Table.open(path);
    expect(table.info).toEqual(written);
    expect(table.info).toMatchObject({ path, count: 3, tombstones: 1, minSeq: 10, maxSeq: 30 });
    expect(table.info.minKey).toEqual(enc('b'));
    expect(table.info.maxKey).toEqual(enc('d'));
    expect(Object.isFrozen(table.info)).toBe(true);
  });

  it('get returns tombstones as records', async () => {
    const path = join(dir, 'tomb.sst');
    await writeTable(path, [KvRecord.tombstoneFor('gone', 9)]);
    const got = (await Table.open(path)).get(enc('gone'));
    expect(got?.tombstone).toBe(true);
    expect(got?.seq).toBe(9);
    expect(got?.value.length).toBe(0);
  });

  it('getValue: a copy of the value, null for a tombstone, undefined when absent', async () => {
    const path = join(dir, 'values.sst');
    await writeTable(path, [
      new KvRecord({ key: 'a', value: 'apple', seq: 1, timestamp: 0 }),
      KvRecord.tombstoneFor('b', 2),
      new KvRecord({ key: 'c', value: '', seq: 3, timestamp: 0 }),
    ]);
    const table = await Table.open(path);
    const a = table.getValue(enc('a'));
    expect(a).toEqual(enc('apple'));
    (a as Uint8Array)[0] = 0; // the caller owns its copy
    expect(table.getValue(enc('a'))).toEqual(enc('apple'));
    expect(table.getValue(enc('b'))).toBeNull();
    expect(table.getValue(enc('c'))).toEqual(new Uint8Array(0));
    expect(table.getValue(enc('bb'))).toBeUndefined();
    expect(table.getValue(enc('z'))).toBeUndefined();
    table.close();
    expectKvError(() => table.getValue(enc('a')), 'KV_NOT_OPEN');
  });

  it('entries() is lazy: it can stop early and two iterators run independently', async () => {
    const path = join(dir, 'lazy.sst');
    const records = numbered(1000);
    await writeTable(path, records, { blockBytes: 256 });
    const table = await Table.open(path);
    const a = table.entries();
    const b = table.entries({ reverse: true });
    expect(a.next().value?.seq).toBe(1);
    expect(b.next().value?.seq).toBe(1000);
    expect(a.next().value?.seq).toBe(2);
    expectSameRecord(table.get(enc('k00500')), records[500] as KvRecord);
    expect(b.next().value?.seq).toBe(999);
  });

  it('after close, get, mayContain and entries throw KV_NOT_OPEN; close is idempotent', async () => {
    const path = join(dir, 'closed.sst');
    await writeTable(path, numbered(100));
    const table = await Table.open(path);
    const it = table.entries();
    it.next();
    table.close();
    table.close();
    expectKvError(() => table.get(enc('k00001')), 'KV_NOT_OPEN', /closed\.sst is closed/);
    expectKvError(() => table.mayContain(enc('k00001')), 'KV_NOT_OPEN');
    expectKvError(() => table.entries(), 'KV_NOT_OPEN');
    expectKvError(() => it.next(), 'KV_NOT_OPEN');
    expect(table.info.count).toBe(100);
  });

  it('views: true scans records whose key and value view the table instead of copying it', async () => {
    const path = join(dir, 'views.sst');
    const records = numbered(500);
    await writeTable(path, records, { blockBytes: 256 });
    const table = await Table.open(path, { access: 'scan' });
    const viewed = [...table.entries({}, { views: true })];
    const copied = [...table.entries({}, {})];
    expect(viewed.length).toBe(500);
    for (let i = 0; i < 500; i++) {
      expectSameRecord(viewed[i] as KvRecord, records[i] as KvRecord);
      expectSameRecord(copied[i] as KvRecord, records[i] as KvRecord);
    }
    // Views: every key and value lies in the one buffer of the table's bytes; copies do not.
    const first = viewed[0] as KvRecord;
    const last = viewed[499] as KvRecord;
    expect(first.value.buffer).toBe(last.key.buffer);
    expect(first.value.buffer.byteLength).toBeGreaterThanOrEqual(table.info.fileBytes);
    expect((copied[0] as KvRecord).value.buffer).not.toBe((copied[499] as KvRecord).value.buffer);
    const reversed = [...table.entries({ reverse: true, lt: enc('k00010') }, { views: true })].map((r) => r.seq);
    expect(reversed).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    // The views keep the bytes they view alive: still readable after close.
    table.close();
    expectSameRecord(last, records[499] as KvRecord);
  });

  it('rejects wrong argument types with TypeError', async () => {
    const path = join(dir, 'types.sst');
    await writeTable(path, numbered(3));
    const table = await Table.open(path);
    expect(() => table.get('k00001' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => table.mayContain(null as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => table.entries({ gt: 'a' as unknown as Uint8Array })).toThrow(TypeError);
    await expect(Table.open(7 as unknown as string)).rejects.toThrow(TypeError);
    await expect(Table.open(path, { access: 'sequential' as unknown as 'scan' })).rejects.toThrow(/access must be/);
  });

  it('the stricter of two lower or upper bounds wins', async () => {
    const path = join(dir, 'bounds.sst');
    await writeTable(path, numbered(20), { blockBytes: 64 });
    const table = await Table.open(path);
    const seqs = (range: object) => [...table.entries(range)].map((r) => r.seq);
    expect(seqs({ gt: enc('k00005'), gte: enc('k00003'), lt: enc('k00009') })).toEqual([7, 8, 9]);
    expect(seqs({ gte: enc('k00005'), gt: enc('k00005'), lte: enc('k00007'), lt: enc('k00020') })).toEqual([7, 8]);
    expect(seqs({ lte: enc('k00004'), lt: enc('k00004'), reverse: true })).toEqual([4, 3, 2, 1]);
    expect(seqs({ gt: enc('k00009'), lt: enc('k00003') })).toEqual([]);
  });

  it('a 1M-entry table works, and open reads only the footer, filter and index', async () => {
    const n = 1_000_000;
    const value = new Uint8Array(40).fill(1);
    function* records() {
      for (let i = 0; i < n; i++)
        yield new KvRecord({ key: enc(`key${String(i).padStart(7, '0')}`), value, seq: i, timestamp: 0 });
    }
    const path = join(dir, 'million.sst');
    const info = await writeTable(path, records());
    expect(info.count).toBe(n);
    expect(info.fileBytes).toBeGreaterThan(64 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const table = await Table.open(path);
    // The index holds ~2 keys per 4 KiB block: a few MiB at most, far below the file size.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(info.fileBytes / 10);
    for (let i = 0; i < n; i += 9973) expect(table.get(enc(`key${String(i).padStart(7, '0')}`))?.seq).toBe(i);
    expect(table.get(enc('key1000000'))).toBeUndefined();
    let count = 0;
    for (const _ of table.entries({ gte: enc('key0999000') })) count++;
    expect(count).toBe(1000);
  }, 120_000);
});
