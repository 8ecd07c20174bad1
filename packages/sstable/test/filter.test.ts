import { join } from 'node:path';
import { KvRecord } from '@kv/record';
import { hashKey, Table, writeTable } from '@kv/sstable';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, tempDir } from './helpers.js';

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

  it('hashKey rejects non-bytes with TypeError', () => {
    expect(() => hashKey('k' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
