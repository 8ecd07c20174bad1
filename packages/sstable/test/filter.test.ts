import { join } from 'node:path';
import { KvRecord, xxh32 } from '@kv/record';
import { hashKey, Table, writeTable } from '@kv/sstable';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlainFilter } from '../src/filter.js';
import { enc, hex, MemoryFs, randomKeys, tempDir } from './helpers.js';

const key = (i: number) => enc(`key-${String(i).padStart(8, '0')}`);

describe('bloom filter', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  async function tableOf(n: number, bloomBitsPerKey?: number): Promise<Table> {
    const records = Array.from({ length: n }, (_, i) => new KvRecord({ key: key(16 * i), value: 'v', timestamp: 0 }));
    const path = join(dir, `t-${n}-${bloomBitsPerKey}.sst`);
    await writeTable(path, records, bloomBitsPerKey === undefined ? {} : { bloomBitsPerKey });
    return Table.open(path);
  }

  /** False-positive rate over `probes` distinct absent keys, all inside the table's key range. */
  function falsePositiveRate(table: Table, probes: number): number {
    let hits = 0;
    let tried = 0;
    for (let j = 1; tried < probes; j++) {
      if (j % 16 === 0) continue;
      tried++;
      if (table.mayContain(key(j))) hits++;
    }
    return hits / probes;
  }

  it('has no false negatives', async () => {
    const table = await tableOf(10_000);
    for (let i = 0; i < 10_000; i++) expect(table.mayContain(key(16 * i))).toBe(true);
  });

  it('10 bits per key: under 2% false positives on 100k absent keys', async () => {
    const rate = falsePositiveRate(await tableOf(10_000), 100_000);
    expect(rate).toBeLessThan(0.02);
    expect(rate).toBeGreaterThan(0.001);
  });

  it('fewer bits per key, more false positives (the option is honoured)', async () => {
    const rate = falsePositiveRate(await tableOf(10_000, 4), 20_000);
    expect(rate).toBeGreaterThan(0.05);
    expect(rate).toBeLessThan(0.3);
  });

  it('hashKey is independent of the table: one hash serves every table', async () => {
    const a = await tableOf(1000);
    const b = await tableOf(3000);
    for (let i = 0; i < 1000; i++) {
      const k = key(16 * i);
      const h = hashKey(k);
      expect(a.mayContain(k, h)).toBe(true);
      expect(b.mayContain(k, h)).toBe(true);
      expect(a.get(k, h)?.key).toEqual(k);
    }
    expect(hashKey(key(4))).toEqual(hashKey(key(4)));
  });

  it('keys outside the table key range are ruled out without the filter', async () => {
    const table = await tableOf(100);
    expect(table.mayContain(enc('a'))).toBe(false);
    expect(table.mayContain(enc('z'))).toBe(false);
  });

  it('a table written before blocked filters (plain filter block) still opens and finds every key', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => key(16 * i));
    const fs = new MemoryFs();
    await writeTable(
      'new.sst',
      keys.map((k) => new KvRecord({ key: k, value: 'v', timestamp: 0 })),
      { fs },
    );
    fs.files.set('old.sst', withPlainFilter(fs.files.get('new.sst') as Uint8Array, keys));
    const table = await Table.open('old.sst', { fs });
    for (const k of keys) expect(table.get(k)?.key).toEqual(k);
    // Read by the blocked rules, these bits would miss most keys; by the plain rules ~0.8% of absent keys pass.
    const rate = falsePositiveRate(table, 100_000);
    expect(rate).toBeGreaterThan(0.004);
    expect(rate).toBeLessThan(0.012);
  });

  it('hashKey rejects non-bytes with TypeError', () => {
    expect(() => hashKey('k' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('bloom filter sized up front (maxKeys)', () => {
  const keys = randomKeys(20_000, 1);
  const present = new Set(keys.map(hex));
  const absent = randomKeys(200_000, 2).filter((k) => !present.has(hex(k)));
  const records = () => keys.map((k) => new KvRecord({ key: k, value: 'v', timestamp: 0 }));

  /** The table's bytes, written to memory with `options`. */
  async function bytesOf(options: { maxKeys?: number } = {}): Promise<Uint8Array> {
    const fs = new MemoryFs();
    await writeTable('t.sst', records(), { ...options, fs });
    return fs.files.get('t.sst') as Uint8Array;
  }

  async function open(bytes: Uint8Array): Promise<Table> {
    const fs = new MemoryFs();
    fs.files.set('t.sst', bytes);
    return Table.open('t.sst', { fs });
  }

  const rateOf = (table: Table) => absent.filter((k) => table.mayContain(k)).length / absent.length;

  it('a bound above the count: every key is found and false positives are no worse than without one', async () => {
    const bytes = await bytesOf({ maxKeys: 30_000 });
    expect(region(bytes, 'filter').length).toBe(12 + Math.ceil((30_000 * 10) / 512) * 64);
    const bounded = await open(bytes);
    for (const k of keys) expect(bounded.mayContain(k)).toBe(true);
    expect(bounded.get(keys[12_345] as Uint8Array)?.key).toEqual(keys[12_345]);
    const base = rateOf(await open(await bytesOf()));
    expect(base).toBeGreaterThan(0.005); // enough absent keys to see the ~1% of 10 bits per key
    expect(rateOf(bounded)).toBeLessThanOrEqual(base);
  });

  it('a bound equal to the count writes the bytes of no bound; a larger one changes only the filter', async () => {
    const unbounded = await bytesOf();
    expect(Buffer.compare(await bytesOf({ maxKeys: keys.length }), unbounded)).toBe(0);
    const larger = await bytesOf({ maxKeys: keys.length + 1000 });
    // 20,000 keys at 10 bits fill 391 blocks of 512 bits, 21,000 fill 411.
    expect(region(unbounded, 'filter').length).toBe(12 + 391 * 64);
    expect(region(larger, 'filter').length).toBe(12 + 411 * 64);
    expect(Buffer.compare(region(larger, 'data'), region(unbounded, 'data'))).toBe(0);
    expect(Buffer.compare(region(larger, 'index'), region(unbounded, 'index'))).toBe(0);
  });
});

/** The data blocks, filter block or index block of a table, located by its footer (FORMAT.md). */
function region(bytes: Uint8Array, which: 'data' | 'filter' | 'index'): Uint8Array {
  const footerAt = bytes.length - 72;
  const f = new DataView(bytes.buffer, bytes.byteOffset + footerAt, 72);
  const filterOffset = Number(f.getBigUint64(32, true));
  const indexOffset = Number(f.getBigUint64(40, true));
  if (which === 'data') return bytes.subarray(0, filterOffset);
  return which === 'filter' ? bytes.subarray(filterOffset, indexOffset) : bytes.subarray(indexOffset, footerAt);
}

/**
 * `table` with its filter block replaced by the plain layout over `keys` (what tables written
 * before blocked filters hold): data blocks and index unchanged, the footer moved and re-sealed.
 */
function withPlainFilter(table: Uint8Array, keys: Uint8Array[]): Uint8Array {
  const footerAt = table.length - 72;
  const footer = table.slice(footerAt);
  const f = new DataView(footer.buffer);
  const filterOffset = Number(f.getBigUint64(32, true));
  const indexOffset = Number(f.getBigUint64(40, true));
  const index = table.subarray(indexOffset, footerAt);
  const hashes = new Uint32Array(2 * keys.length);
  keys.forEach((k, i) => {
    const h = hashKey(k);
    hashes[2 * i] = h.h1;
    hashes[2 * i + 1] = h.h2;
  });
  const filter = buildPlainFilter(hashes, keys.length, 10);
  f.setBigUint64(40, BigInt(filterOffset + filter.length), true);
  f.setUint32(48, filter.length, true);
  f.setUint32(60, xxh32(footer.subarray(0, 60), 0x6b764654), true);
  const out = new Uint8Array(filterOffset + filter.length + index.length + 72);
  out.set(table.subarray(0, filterOffset));
  out.set(filter, filterOffset);
  out.set(index, filterOffset + filter.length);
  out.set(footer, filterOffset + filter.length + index.length);
  return out;
}
