import { join } from 'node:path';
import { compareBytes, isKvError, type KeyRange, KvError, KvRecord } from '@kv/record';
import { BlockCache, DEFAULT_BLOCK_CACHE_OPTIONS, Table, writeTable } from '@kv/sstable';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, expectKvError, expectSameRecord, MemoryFs, numbered, sameRecord, tempDir } from './helpers.js';

const SLOT = BlockCache.SLOT_BYTES;
/** Records of 80-byte values in 64-byte blocks: every record is a block of its own. */
const ONE_PER_BLOCK = { valueBytes: 80, blockBytes: 64 };
const key = (i: number) => enc(`k${String(i).padStart(5, '0')}`);

/** A table of `n` one-record blocks in a fresh MemoryFs, opened with `cache`. */
async function blocksTable(n: number, cache: BlockCache, path = 't.sst', fs = new MemoryFs()) {
  const records = numbered(n, ONE_PER_BLOCK.valueBytes);
  await writeTable(path, records, { blockBytes: ONE_PER_BLOCK.blockBytes, fs });
  return { table: await Table.open(path, { fs, cache }), records, fs };
}

/** Which of `blocks` (one key each) the cache holds, probed by gets: a probe that misses caches its block. */
function cachedBlocks(table: Table, cache: BlockCache, blocks: number[]): number[] {
  return blocks.filter((i) => {
    const before = cache.stats().hits;
    table.get(key(i));
    return cache.stats().hits > before;
  });
}

describe('BlockCache', () => {
  it('options: default 8 MiB, the caller object untouched; bad values are TypeError or KV_INVALID_ARGUMENT', () => {
    expect(new BlockCache().maxBytes).toBe(8 * 1024 * 1024);
    expect(DEFAULT_BLOCK_CACHE_OPTIONS.maxBytes).toBe(8 * 1024 * 1024);
    expect(Object.isFrozen(DEFAULT_BLOCK_CACHE_OPTIONS)).toBe(true);
    const options = Object.freeze({ maxBytes: 1024 });
    expect(new BlockCache(options).stats()).toEqual({
      hits: 0,
      misses: 0,
      entries: 0,
      bytes: 0,
      maxBytes: 1024,
      evictions: 0,
    });
    expect(() => new BlockCache({ maxBytes: '1' as unknown as number })).toThrow(TypeError);
    expect(() => new BlockCache(null as unknown as object)).toThrow(TypeError);
    for (const maxBytes of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expectKvError(() => new BlockCache({ maxBytes }), 'KV_INVALID_ARGUMENT', /maxBytes/);
    }
  });

  it('Table.open rejects a cache that is not a BlockCache with TypeError', async () => {
    const fs = new MemoryFs();
    await writeTable('t.sst', numbered(3), { fs });
    await expect(Table.open('t.sst', { fs, cache: {} as BlockCache })).rejects.toThrow(TypeError);
  });

  it('counts a miss for the first get of a block and a hit for each later one', async () => {
    const cache = new BlockCache();
    const { table, records } = await blocksTable(10, cache);
    expectSameRecord(table.get(key(3)), records[3] as KvRecord);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, entries: 1, bytes: SLOT });
    expectSameRecord(table.get(key(3)), records[3] as KvRecord);
    expectSameRecord(table.get(key(3)), records[3] as KvRecord);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, entries: 1 });
  });

  it('a get ruled out by the filter or the key range looks nothing up', async () => {
    const cache = new BlockCache();
    const { table } = await blocksTable(10, cache);
    expect(table.get(enc('a'))).toBeUndefined();
    expect(table.get(enc('z'))).toBeUndefined();
    expect(table.mayContain(key(1))).toBe(true);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, entries: 0 });
  });

  it('gets of keys in one block share its cached entry', async () => {
    const cache = new BlockCache();
    const fs = new MemoryFs();
    await writeTable('one.sst', numbered(20), { fs });
    const table = await Table.open('one.sst', { fs, cache });
    for (let i = 0; i < 20; i++) table.get(key(i));
    expect(cache.stats()).toMatchObject({ hits: 19, misses: 1, entries: 1 });
  });

  it('scans look blocks up and cache them too, one lookup per block', async () => {
    const cache = new BlockCache();
    const { table, records } = await blocksTable(6, cache);
    expect([...table.entries()].length).toBe(6);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 6, entries: 6 });
    const got = [...table.entries({ reverse: true })];
    expect(got.map((r) => r.seq)).toEqual(records.map((r) => r.seq).reverse());
    expect(cache.stats()).toMatchObject({ hits: 6, misses: 6, entries: 6 });
  });

  it('evicts the least recently used block first: a hit makes a block the most recent', async () => {
    const cache = new BlockCache({ maxBytes: 3 * SLOT });
    const { table } = await blocksTable(10, cache);
    for (const i of [0, 1, 2]) table.get(key(i));
    table.get(key(0)); // recency, most recent first: 0, 2, 1
    table.get(key(3)); // evicts 1
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
    expect(cachedBlocks(table, cache, [0, 2, 3])).toEqual([0, 2, 3]);
    expect(cachedBlocks(table, cache, [1])).toEqual([]); // now cached again, evicting 0
    expect(cachedBlocks(table, cache, [2, 3, 1])).toEqual([2, 3, 1]);
    expect(cachedBlocks(table, cache, [0])).toEqual([]);
  });

  it('never holds more than maxBytes: SLOT_BYTES per block, evictions counted', async () => {
    const cache = new BlockCache({ maxBytes: 4 * SLOT + SLOT - 1 });
    const { table } = await blocksTable(50, cache);
    for (let i = 0; i < 50; i++) {
      table.get(key(i));
      const { bytes, entries, maxBytes } = cache.stats();
      expect(bytes).toBe(entries * SLOT);
      expect(bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(cache.stats()).toMatchObject({ entries: 4, bytes: 4 * SLOT, misses: 50, evictions: 46 });
    expect(cachedBlocks(table, cache, [49, 48, 47, 46])).toEqual([49, 48, 47, 46]);
  });

  it('a cache shared by two tables never serves one table the other table’s block', async () => {
    const cache = new BlockCache({ maxBytes: 6 * SLOT });
    const fs = new MemoryFs();
    const a = numbered(8, 80);
    const b = a.map((r) => new KvRecord({ key: r.key, value: `other ${r.seq}`, seq: r.seq + 1000, timestamp: 7 }));
    await writeTable('a.sst', a, { blockBytes: 64, fs });
    await writeTable('b.sst', b, { blockBytes: 64, fs });
    const ta = await Table.open('a.sst', { fs, cache });
    const tb = await Table.open('b.sst', { fs, cache });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 8; i++) {
        expectSameRecord(ta.get(key(i)), a[i] as KvRecord);
        expectSameRecord(tb.get(key(i)), b[i] as KvRecord);
      }
    }
    expect([...tb.entries()].map((r) => r.seq)).toEqual(b.map((r) => r.seq));
    expect(cache.stats().entries).toBe(6);
  });

  it('closing a table drops its blocks and leaves the other tables’ blocks cached', async () => {
    const cache = new BlockCache();
    const fs = new MemoryFs();
    const one = await blocksTable(5, cache, 'one.sst', fs);
    const two = await blocksTable(3, cache, 'two.sst', fs);
    for (let i = 0; i < 5; i++) one.table.get(key(i));
    for (let i = 0; i < 3; i++) two.table.get(key(i));
    expect(cache.stats().entries).toBe(8);
    one.table.close();
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 3 * SLOT, evictions: 0 });
    one.table.close();
    expect(cache.stats().entries).toBe(3);
    expect(cachedBlocks(two.table, cache, [0, 1, 2])).toEqual([0, 1, 2]);
    const three = await blocksTable(5, cache, 'three.sst', fs);
    for (let i = 0; i < 5; i++) three.table.get(key(i));
    expect(cache.stats().entries).toBe(8);
  });

  it('a table reopened at the same path never sees the earlier open’s blocks', async () => {
    const cache = new BlockCache();
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'same.sst');
      const before = numbered(4, 80);
      const after = before.map((r) => new KvRecord({ key: r.key, value: 'rewritten', seq: r.seq + 50, timestamp: 0 }));
      await writeTable(path, before, { blockBytes: 64 });
      const first = await Table.open(path, { cache });
      for (let i = 0; i < 4; i++) expectSameRecord(first.get(key(i)), before[i] as KvRecord);
      const second = await Table.open(path, { cache }); // the same file, a second open
      for (let i = 0; i < 4; i++) expectSameRecord(second.get(key(i)), before[i] as KvRecord);
      expect(cache.stats()).toMatchObject({ hits: 0, misses: 8, entries: 8 });
      first.close();
      second.close();
      await writeTable(path, after, { blockBytes: 64 }); // another file at the path
      const third = await Table.open(path, { cache });
      for (let i = 0; i < 4; i++) expectSameRecord(third.get(key(i)), after[i] as KvRecord);
      expect(cache.stats()).toMatchObject({ hits: 0, misses: 12, entries: 4 });
      third.close();
    } finally {
      cleanup();
    }
  });

  it('maxBytes 0 disables the cache: reads work and nothing is counted', async () => {
    for (const maxBytes of [0, SLOT - 1]) {
      const cache = new BlockCache({ maxBytes });
      const { table, records } = await blocksTable(5, cache);
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 5; i++) expectSameRecord(table.get(key(i)), records[i] as KvRecord);
      }
      expect([...table.entries()].length).toBe(5);
      table.close();
      expect(cache.stats()).toEqual({ hits: 0, misses: 0, entries: 0, bytes: 0, maxBytes, evictions: 0 });
    }
  });

  it('gets and scans with a cache return exactly what they return without one', async () => {
    const arbKey = fc.oneof(
      fc.uint8Array({ maxLength: 10 }),
      fc.string({ maxLength: 8 }).map((s) => enc(`p/${s}`)),
    );
    const arbTable = fc
      .uniqueArray(fc.record({ key: arbKey, value: fc.uint8Array({ maxLength: 120 }), tombstone: fc.boolean() }), {
        maxLength: 200,
        selector: (r) => Buffer.from(r.key).toString('hex'),
      })
      .map((rows) =>
        rows
          .sort((a, b) => compareBytes(a.key, b.key))
          .map(
            (r, i) =>
              new KvRecord({
                key: r.key,
                value: r.tombstone ? '' : r.value,
                tombstone: r.tombstone,
                seq: i,
                timestamp: 0,
              }),
          ),
      );
    const arbRange = fc.record({
      gte: fc.option(arbKey, { nil: undefined }),
      lt: fc.option(arbKey, { nil: undefined }),
      reverse: fc.boolean(),
    });
    const fs = new MemoryFs();
    // One small cache for every run: tables come and go, blocks are evicted between gets.
    const cache = new BlockCache({ maxBytes: 3 * SLOT });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        arbTable,
        fc.array(fc.oneof(arbKey, fc.nat(400)), { maxLength: 60 }),
        fc.array(arbRange, { maxLength: 4 }),
        fc.constantFrom(64, 256, 4096),
        async (records, probes, ranges, blockBytes) => {
          const path = `r${run++}.sst`;
          await writeTable(path, records, { blockBytes, fs });
          const plain = await Table.open(path, { fs });
          const cached = await Table.open(path, { fs, cache });
          const keys = probes.map((p) => (typeof p === 'number' ? (records[p % 200]?.key ?? enc('')) : p));
          for (const k of [...keys, ...keys]) {
            const want = plain.get(k);
            const got = cached.get(k);
            if (want === undefined) expect(got).toBeUndefined();
            else expect(got !== undefined && sameRecord(got, want)).toBe(true);
          }
          for (const range of [{}, ...ranges] as KeyRange[]) {
            const want = [...plain.entries(range)];
            const got = [...cached.entries(range)];
            expect(got.length).toBe(want.length);
            for (const [i, r] of got.entries()) expect(sameRecord(r, want[i] as KvRecord)).toBe(true);
          }
          cached.close();
          plain.close();
        },
      ),
      { numRuns: 120 },
    );
    expect(cache.stats().entries).toBe(0);
    expect(cache.stats().hits).toBeGreaterThan(0);
    expect(cache.stats().evictions).toBeGreaterThan(0);
  });
});

describe('BlockCache and corruption', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  /** `n` one-record blocks in a MemoryFs; the table's mapping is the MemoryFs's own array, so tests can damage it after open. */
  async function damageable(n: number, cache: BlockCache) {
    const { table, records, fs } = await blocksTable(n, cache, 'd.sst');
    const bytes = fs.files.get('d.sst') as Uint8Array;
    /** Flips a bit in the value of record `i` (in the entry, not the slots). */
    const rot = (i: number) => {
      const at = Buffer.from(bytes).indexOf(`v${i}.`);
      expect(at).toBeGreaterThan(0);
      bytes[at + 5] = (bytes[at + 5] as number) ^ 1;
    };
    /** Flips a bit in block `i`'s stored checksum, its last byte: block i + 1 starts with its key's length. */
    const rotSlots = (i: number) => {
      const end = Buffer.from(bytes).indexOf(key(i + 1)) - 1;
      bytes[end - 1] = (bytes[end - 1] as number) ^ 1;
    };
    return { table, records, rot, rotSlots };
  }

  it('DamagedBlockNotCached: a block that fails verification is KV_CORRUPTION and never enters the cache', async () => {
    const cache = new BlockCache();
    const { table, rotSlots } = await damageable(5, cache);
    rotSlots(2);
    expectKvError(() => table.get(key(2)), 'KV_CORRUPTION', /slots checksum mismatch/);
    expect(cache.stats()).toMatchObject({ misses: 1, entries: 0 });
  });

  it('DamagedEntryInCachedBlock: an entry read for the first time is verified though its block is cached', async () => {
    const cache = new BlockCache();
    const fs = new MemoryFs();
    await writeTable('e.sst', numbered(20, 20), { fs });
    const bytes = fs.files.get('e.sst') as Uint8Array;
    const table = await Table.open('e.sst', { fs, cache });
    table.get(key(0));
    expect(cache.stats().entries).toBe(1);
    const at = Buffer.from(bytes).indexOf('v7.');
    bytes[at + 4] = (bytes[at + 4] as number) ^ 1;
    const err = expectKvError(() => table.get(key(7)), 'KV_CORRUPTION', /entry 7 checksum mismatch/);
    // Sticky, and the failed table's blocks are dropped.
    expect(() => table.get(key(0))).toThrow(err);
    expect(cache.stats().entries).toBe(0);
  });

  it('RotAfterVerification: a get trusts an entry it verified while the block stays cached; eviction ends the trust', async () => {
    const cache = new BlockCache({ maxBytes: 2 * SLOT });
    const { table, records, rot } = await damageable(5, cache);
    expectSameRecord(table.get(key(1)), records[1] as KvRecord);
    rot(1);
    // The documented trade-off: entry 1 passed its checksum, and its block is still cached.
    expect(table.get(key(1))?.value).not.toEqual((records[1] as KvRecord).value);
    table.get(key(2));
    table.get(key(3)); // evicts block 1
    expectKvError(() => table.get(key(1)), 'KV_CORRUPTION', /checksum mismatch/);
  });

  it('RotAfterVerification: a scan verifies every entry it yields, cached block or not', async () => {
    const cache = new BlockCache();
    const { table, rot } = await damageable(5, cache);
    for (let i = 0; i < 5; i++) table.get(key(i));
    rot(3);
    let err: unknown;
    try {
      for (const _ of table.entries()) {
        // drain
      }
    } catch (e) {
      err = e;
    }
    expect(isKvError(err, 'KV_CORRUPTION')).toBe(true);
  });

  it('DamagedDataBlock in a mapped file is KV_CORRUPTION with a cache too', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const path = join(dir, 'mapped.sst');
    await writeTable(path, numbered(200, 50));
    const bytes = new Uint8Array(readFileSync(path));
    bytes[10] = (bytes[10] as number) ^ 1;
    writeFileSync(path, bytes);
    const table = await Table.open(path, { cache: new BlockCache() });
    expect(() => table.get(enc('k00001'))).not.toThrow();
    expect(() => table.get(enc('k00000'))).toThrow(/mapped\.sst at offset 0: entry 0 checksum mismatch/);
    expect(() => table.get(enc('k00001'))).toThrow(KvError);
  });
});
