import { join } from 'node:path';
import { compareBytes, inRange, type KeyRange, KvRecord, RecordType } from '@kv/record';
import { hashKey, Table, writeTable } from '@kv/sstable';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, expectSameRecord, MemoryFs, numbered, sameRecord, sortUnique, tempDir } from './helpers.js';

/** Keys that lean on the edges of byte order: 0x00, 0xff, shared prefixes, the empty key. */
const arbKey = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.array(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff), { maxLength: 6 }).map((a) => Uint8Array.from(a)),
  fc.string({ maxLength: 10 }).map((s) => enc(`prefix/${s}`)),
);

const arbValue = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 9_000, maxLength: 10_240 }) },
);

const arbTable = fc
  .uniqueArray(
    fc.record({
      key: arbKey,
      value: arbValue,
      tombstone: fc.boolean(),
      seq: fc.maxSafeNat(),
      timestamp: fc.maxSafeNat(),
      type: fc.constantFrom(RecordType.Plain, RecordType.HyperLogLog, RecordType.CountMinSketch),
    }),
    { maxLength: 150, selector: (r) => Buffer.from(r.key).toString('hex') },
  )
  .map((rows) =>
    rows
      .sort((a, b) => compareBytes(a.key, b.key))
      .map((r) => new KvRecord({ ...r, value: r.tombstone ? new Uint8Array(0) : r.value })),
  );

const arbBound = fc.option(arbKey, { nil: undefined });
const arbRange = fc.record({ gt: arbBound, gte: arbBound, lt: arbBound, lte: arbBound, reverse: fc.boolean() });

function model(records: KvRecord[], range: KeyRange): KvRecord[] {
  const out = records.filter((r) => inRange(r.key, range));
  return range.reverse ? out.reverse() : out;
}

describe('round trip', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  it('get finds every key written, with every field, and nothing else', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        arbTable,
        fc.array(arbKey, { maxLength: 30 }),
        fc.constantFrom(64, 256, 4096),
        async (records, probes, blockBytes) => {
          const path = join(dir, `get-${run++}.sst`);
          const info = await writeTable(path, records, { blockBytes });
          const table = await Table.open(path);
          expect(table.info).toEqual(info);
          for (const r of records) expectSameRecord(table.get(r.key, hashKey(r.key)), r);
          const present = new Set(records.map((r) => Buffer.from(r.key).toString('hex')));
          for (const key of probes) {
            if (!present.has(Buffer.from(key).toString('hex'))) expect(table.get(key)).toBeUndefined();
          }
          table.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('entries() equals the model for random bounds, forward and reverse', async () => {
    const fs = new MemoryFs();
    await fc.assert(
      fc.asyncProperty(
        arbTable,
        fc.array(arbRange, { maxLength: 12 }),
        fc.constantFrom(64, 512),
        async (records, ranges, blockBytes) => {
          await writeTable('t.sst', records, { blockBytes, fs });
          const table = await Table.open('t.sst', { fs });
          for (const range of [{}, { reverse: true }, ...ranges]) {
            const got = [...table.entries(range)];
            const want = model(records, range);
            expect(got.length).toBe(want.length);
            for (const [i, r] of got.entries()) expect(sameRecord(r, want[i] as KvRecord)).toBe(true);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('entries() with bounds taken from the keys themselves (exact hits on block edges)', async () => {
    const fs = new MemoryFs();
    const records = numbered(300);
    await writeTable('n.sst', records, { blockBytes: 128, fs });
    const table = await Table.open('n.sst', { fs });
    const keys = records.map((r) => r.key);
    for (let i = 0; i < keys.length; i += 7) {
      const k = keys[i] as Uint8Array;
      for (const range of [{ gt: k }, { gte: k }, { lt: k }, { lte: k }]) {
        for (const reverse of [false, true]) {
          const r = { ...range, reverse };
          expect([...table.entries(r)].map((x) => x.seq)).toEqual(model(records, r).map((x) => x.seq));
        }
      }
    }
  });

  it('an empty input makes a valid empty table', async () => {
    const path = join(dir, 'empty.sst');
    const info = await writeTable(path, []);
    const table = await Table.open(path);
    expect(table.info).toMatchObject({ count: 0, tombstones: 0, minSeq: 0, maxSeq: 0 });
    expect(table.info.minKey.length + table.info.maxKey.length).toBe(0);
    expect(info.fileBytes).toBe(table.info.fileBytes);
    expect(table.get(enc('a'))).toBeUndefined();
    expect(table.mayContain(enc(''))).toBe(false);
    expect([...table.entries()]).toEqual([]);
    expect([...table.entries({ reverse: true, gte: enc('a') })]).toEqual([]);
  });

  it('accepts an async iterable and a generator, streaming', async () => {
    async function* gen() {
      for (const r of numbered(500)) yield r;
    }
    const a = await writeTable(join(dir, 'async.sst'), gen());
    const b = await writeTable(join(dir, 'sync.sst'), numbered(500)[Symbol.iterator]());
    expect(a.count).toBe(500);
    expect({ ...a, path: '' }).toEqual({ ...b, path: '' });
  });

  it('keeps the empty key, 0x00 and 0xff keys in byte order', async () => {
    const keys = sortUnique([
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(0, 0),
      Uint8Array.of(0xff),
      Uint8Array.of(0xff, 0xff),
    ]);
    const records = keys.map((k, i) => new KvRecord({ key: k, value: `v${i}`, seq: i, timestamp: 0 }));
    const path = join(dir, 'edges.sst');
    await writeTable(path, records, { blockBytes: 64 });
    const table = await Table.open(path);
    for (const r of records) expectSameRecord(table.get(r.key), r);
    expect([...table.entries({ reverse: true })].map((r) => r.seq)).toEqual([4, 3, 2, 1, 0]);
    expect([...table.entries({ gt: new Uint8Array(0), lt: Uint8Array.of(0xff) })].map((r) => r.seq)).toEqual([1, 2]);
  });

  it('a record larger than blockBytes gets a block of its own', async () => {
    const big = new Uint8Array(50_000).fill(7);
    const records = [
      new KvRecord({ key: 'a', value: 'x', timestamp: 0 }),
      new KvRecord({ key: 'b', value: big, timestamp: 0 }),
      new KvRecord({ key: 'c', value: 'y', timestamp: 0 }),
    ];
    const path = join(dir, 'big-value.sst');
    await writeTable(path, records, { blockBytes: 64 });
    const table = await Table.open(path);
    for (const r of records) expectSameRecord(table.get(r.key), r);
  });

  it('returned keys and values are copies, independent of the file and of each other', async () => {
    const path = join(dir, 'copies.sst');
    await writeTable(path, numbered(100, 200));
    const table = await Table.open(path);
    const a = table.get(enc('k00001'));
    const b = table.get(enc('k00002'));
    a?.value.fill(0);
    expect(
      Buffer.from(b?.value ?? [])
        .toString()
        .startsWith('v2.'),
    ).toBe(true);
    expect(
      Buffer.from(table.get(enc('k00001'))?.value ?? [])
        .toString()
        .startsWith('v1.'),
    ).toBe(true);
  });
});
