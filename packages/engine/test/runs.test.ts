import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BatchOperation, KvStore, KvStoreOptions } from '@kv/engine';
import { xxh32 } from '@kv/record';
import { nodeTableFs, Table, type TableFs } from '@kv/sstable';
import { afterEach, describe, expect, it } from 'vitest';
import { closeOpenStores, entries, expectKvError, openStore, prng, tempDir, text } from './helpers.js';

afterEach(closeOpenStores);

/** Runs of several tables: compaction output cut at `tableBytes`, one run per compaction. */
const SPLIT: KvStoreOptions = { tableBytes: 64 * 1024, memtableBytes: 64 * 1024, maxLevels: 3 };

const key = (i: number) => `key${String(i).padStart(13, '0')}`;
const KEYS = 4000;

/**
 * 16-byte keys, ~100-byte values; three rounds so the merge has shadowed versions and
 * tombstones to drop. Returns what the store must hold.
 */
async function fill(db: KvStore): Promise<Map<string, string>> {
  const model = new Map<string, string>();
  for (let round = 0; round < 3; round++) {
    let ops: BatchOperation[] = [];
    for (let i = round; i < KEYS; i += 1 + round) {
      const value = `r${round}-${i}-${'v'.repeat(90)}`;
      ops.push({ type: 'put', key: key(i), value });
      model.set(key(i), value);
      if (i % 97 === round * 7) {
        ops.push({ type: 'del', key: key(i) });
        model.delete(key(i));
      }
      if (ops.length >= 100) {
        await db.batch(ops);
        ops = [];
      }
    }
    await db.batch(ops);
    await db.flush();
  }
  return model;
}

const sorted = (model: Map<string, string>) => [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** The store's table files, each with its key range. */
function tableRanges(dir: string): Promise<{ file: string; min: string; max: string }[]> {
  const tablesDir = path.join(dir, 'tables');
  return Promise.all(
    fs
      .readdirSync(tablesDir)
      .sort()
      .map(async (file) => {
        const t = await Table.open(path.join(tablesDir, file));
        const range = { file, min: text(t.info.minKey) as string, max: text(t.info.maxKey) as string };
        t.close();
        return range;
      }),
  );
}

/** Whether `p` settles within `ms` (a store that compacts the same run forever never does). */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
}

function readManifest(dir: string): { version: string; body: Record<string, unknown> } {
  const bytes = fs.readFileSync(path.join(dir, 'MANIFEST'), 'utf8');
  const nl = bytes.indexOf('\n');
  return { version: bytes.slice(0, nl).split(' ')[1] as string, body: JSON.parse(bytes.slice(nl + 1)) };
}

/** Replaces the MANIFEST with `body` under a valid header and checksum: a hand-written one. */
function writeManifest(dir: string, version: number, body: object): void {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const sum = xxh32(json, 0x6b764d46).toString(16).padStart(8, '0');
  fs.writeFileSync(path.join(dir, 'MANIFEST'), Buffer.concat([Buffer.from(`kv-manifest ${version} ${sum}\n`), json]));
}

describe('compaction output split into a run of several tables', () => {
  for (const where of ['on the worker thread', 'on the event loop'] as const) {
    // A custom tableFs keeps compactions on the event loop.
    const options: KvStoreOptions = where === 'on the event loop' ? { ...SPLIT, tableFs: nodeTableFs } : SPLIT;

    it(`writes tables of at most about tableBytes, one run, with every key readable (${where})`, async () => {
      const dir = tempDir();
      const db = await openStore(dir, { ...options, autoCompact: false });
      const model = await fill(db);
      await db.compact();
      const last = db.stats().levels.at(-1);
      expect(last?.runs).toBe(1);
      expect(last?.tables).toBeGreaterThanOrEqual(5);
      expect(db.stats().tables).toBe(last?.tables);
      for (const t of fs.readdirSync(path.join(dir, 'tables'))) {
        expect(fs.statSync(path.join(dir, 'tables', t)).size).toBeLessThanOrEqual(64 * 1024 * 1.1);
      }
      for (const k of Array.from({ length: KEYS }, (_, i) => key(i))) expect(text(db.get(k))).toBe(model.get(k));
      expect(entries(db)).toEqual(sorted(model));
      expect(entries(db, { reverse: true })).toEqual(sorted(model).reverse());
    });

    it(`answers ranges that cross table boundaries, both ways (${where})`, async () => {
      const dir = tempDir();
      const db = await openStore(dir, { ...options, autoCompact: false });
      const expected = sorted(await fill(db));
      await db.compact();
      const ranges = await tableRanges(dir);
      expect(ranges.length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < ranges.length; i++) {
        const prev = ranges[i - 1] as { max: string };
        const next = ranges[i] as { min: string };
        expect(prev.max < next.min).toBe(true); // disjoint and ascending
        // From a few keys before the boundary to a few after it, and a bound on the boundary itself.
        const at = expected.findIndex(([k]) => k === prev.max);
        const from = (expected[Math.max(0, at - 3)] as [string, string])[0];
        const to = (expected[Math.min(expected.length - 1, at + 4)] as [string, string])[0];
        const want = expected.filter(([k]) => k >= from && k < to);
        expect(want.length).toBeGreaterThan(4);
        expect(entries(db, { gte: from, lt: to })).toEqual(want);
        expect(entries(db, { gte: from, lt: to, reverse: true })).toEqual([...want].reverse());
        expect(entries(db, { gt: prev.max, limit: 2 })).toEqual(expected.slice(at + 1, at + 3));
        expect(entries(db, { lte: prev.max, reverse: true, limit: 2 })).toEqual([expected[at], expected[at - 1]]);
        expect(entries(db, { gte: next.min, lte: next.min })).toEqual(expected.filter(([k]) => k === next.min));
      }
    });
  }

  it('gets binary keys of 1-6 bytes, most tying on their first four, across runs of many tables', async () => {
    // Lookups compare the first four key bytes of each table's range first: keys shorter than
    // four bytes (zero-padded) and ties on four bytes must still find the right table.
    const rand = prng(20261122);
    const alphabet = [0, 1, 2, 255];
    const randomKey = () =>
      Uint8Array.from({ length: 1 + Math.floor(rand() * 6) }, () => alphabet[Math.floor(rand() * 4)] as number);
    const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');
    const db = await openStore(tempDir(), { ...SPLIT, tableBytes: 4096, autoCompact: false });
    const model = new Map<string, string>();
    const write = async (n: number, round: number) => {
      for (let i = 0; i < n; i++) {
        const k = randomKey();
        const value = `r${round}-${i}-${'v'.repeat(60)}`;
        await db.put(k, value);
        model.set(hex(k), value);
      }
      await db.flush();
    };
    await write(3000, 0);
    await db.compact(); // one run of many tables
    await write(300, 1); // newer runs on top of it
    await write(300, 2);
    const runs = db.stats().levels.reduce((n, l) => n + l.runs, 0);
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(db.stats().tables).toBeGreaterThanOrEqual(runs + 4);
    for (const [k, v] of model) expect(text(db.get(Buffer.from(k, 'hex')))).toBe(v);
    // Absent keys: between tables, before the first and after the last.
    let absent = 0;
    for (let i = 0; i < 2000; i++) {
      const k = Uint8Array.from({ length: 1 + Math.floor(rand() * 7) }, () => Math.floor(rand() * 256));
      if (model.has(hex(k))) continue;
      expect(db.get(k)).toBeUndefined();
      absent++;
    }
    expect(absent).toBeGreaterThan(1900);
    for (const k of [
      Uint8Array.of(0),
      Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0),
      Uint8Array.of(255, 255, 255, 255, 255, 255, 255),
    ]) {
      expect(text(db.get(k))).toBe(model.get(hex(k)));
    }
  });

  it("sizes each output table's filter for its share of the input, not for the whole input", async () => {
    const dir = tempDir();
    // Two levels: one compaction merges every level-0 run, so its inputs are all the entries.
    const db = await openStore(dir, { ...SPLIT, maxLevels: 2, autoCompact: false });
    await fill(db);
    const inputKeys = db.stats().levels.reduce((n, l) => n + l.entries, 0);
    await db.compact();
    const tablesDir = path.join(dir, 'tables');
    const files = fs.readdirSync(tablesDir);
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(tablesDir, file));
      const filterLength = bytes.readUInt32LE(bytes.length - 72 + 48); // sstable FORMAT.md, "Footer"
      // A blocked filter at 10 bits per key: whole 64-byte blocks plus 12 bytes.
      expect(filterLength).toBeLessThan(12 + Math.ceil((inputKeys * 10) / 512) * 64);
      expect(filterLength).toBeLessThan(bytes.length / 10);
    }
  });

  it('leaves a last level of one many-table run alone: the compaction count settles', async () => {
    const db = await openStore(tempDir(), { ...SPLIT, runsPerLevel: 2, maxLevels: 2 });
    const model = await fill(db);
    expect(await within(db.waitForCompaction(), 15_000), 'background compaction never settled').toBe(true);
    const after = db.stats();
    expect(after.levels[1]?.runs).toBe(1);
    expect(after.levels[1]?.tables).toBeGreaterThanOrEqual(5);
    expect(after.levels[0]?.runs).toBeLessThan(2);
    // Flushing nothing wakes compaction again: the one run of the last level is not due.
    await db.flush();
    await db.waitForCompaction();
    expect(db.stats().compactions).toBe(after.compactions);
    expect(db.stats().levels).toEqual(after.levels);
    expect(entries(db)).toEqual(sorted(model));
  });

  it('compact() of a store that is one many-table run on the last level does nothing', async () => {
    const db = await openStore(tempDir(), { ...SPLIT, autoCompact: false });
    const model = await fill(db);
    await db.compact();
    const after = db.stats();
    expect(after.levels.at(-1)?.tables).toBeGreaterThanOrEqual(5);
    expect(await within(db.compact(), 15_000), 'compact() kept compacting').toBe(true);
    expect(db.stats().compactions).toBe(after.compactions);
    expect(entries(db)).toEqual(sorted(model));
  });
});

describe('a split compaction that fails', () => {
  it('ENOSPC on its third output table is KV_IO_ERROR and removes the two it wrote', async () => {
    const dir = tempDir();
    let outputs = 0;
    let failAt = Number.POSITIVE_INFINITY;
    const faulty: TableFs = {
      ...nodeTableFs,
      async open(p, mode) {
        if (mode === 'write' && ++outputs === failAt) {
          throw Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' });
        }
        return nodeTableFs.open(p, mode);
      },
    };
    const db = await openStore(dir, { ...SPLIT, maxLevels: 2, autoCompact: false, tableFs: faulty });
    const model = await fill(db);
    const before = fs.readdirSync(path.join(dir, 'tables')).sort();
    failAt = outputs + 3;
    await expectKvError(db.compact(), 'KV_IO_ERROR');
    expect(outputs).toBe(failAt);
    expect(fs.readdirSync(path.join(dir, 'tables')).sort()).toEqual(before);
    await db.close();
    const again = await openStore(dir, { ...SPLIT, maxLevels: 2, autoCompact: false });
    expect(entries(again)).toEqual(sorted(model));
  });
});

describe('runs in the MANIFEST', () => {
  it('round-trip across reopen as version 2, with run lengths', async () => {
    const dir = tempDir();
    let db = await openStore(dir, { ...SPLIT, autoCompact: false });
    const model = await fill(db);
    await db.compact();
    const tables = db.stats().tables;
    await db.close();
    const { version, body } = readManifest(dir);
    expect(version).toBe('2');
    expect(body.runs).toEqual([[], [], [tables]]);
    db = await openStore(dir, { ...SPLIT, autoCompact: false });
    expect(db.stats().levels.map((l) => [l.runs, l.tables])).toEqual([
      [0, 0],
      [0, 0],
      [1, tables],
    ]);
    expect(entries(db)).toEqual(sorted(model));
  });

  it('stay version 1, without runs, while every run is one table (older binaries read it)', async () => {
    const dir = tempDir();
    const db = await openStore(dir, { ...SPLIT, autoCompact: false });
    await fill(db);
    expect(db.stats().levels[0]?.runs).toBeGreaterThanOrEqual(3);
    expect(db.stats().levels[0]?.tables).toBe(db.stats().levels[0]?.runs);
    await db.close();
    const { version, body } = readManifest(dir);
    expect(version).toBe('1');
    expect(body).not.toHaveProperty('runs');
  });

  it('a version 1 manifest (levels only) opens with each table a run of its own', async () => {
    const dir = tempDir();
    let db = await openStore(dir, { ...SPLIT, autoCompact: false });
    const model = await fill(db);
    await db.compact();
    const tables = db.stats().tables;
    expect(tables).toBeGreaterThanOrEqual(5);
    await db.close();
    const { body } = readManifest(dir);
    const { runs: _, ...levelsOnly } = body;
    writeManifest(dir, 1, levelsOnly);
    db = await openStore(dir, { ...SPLIT, autoCompact: false });
    expect(db.stats().levels[2]).toMatchObject({ runs: tables, tables });
    expect(entries(db)).toEqual(sorted(model));
  });

  it('runs that do not add up to the level, or a version 1 manifest with runs, are KV_CORRUPTION', async () => {
    const dir = tempDir();
    const db = await openStore(dir, { ...SPLIT, autoCompact: false });
    await fill(db);
    await db.compact();
    const tables = db.stats().tables;
    await db.close();
    const { body } = readManifest(dir);
    for (const [version, runs, why] of [
      [2, [[], [], [tables - 1]], 'runs add up to'],
      [2, [[], [], [tables, 1]], 'runs add up to'],
      [2, [[], [], [0, tables]], 'positive integers'],
      [2, [[], [tables]], 'every level'],
      [2, undefined, 'every level'],
      [1, [[], [], [tables]], 'version 1 manifest has no runs'],
    ] as const) {
      writeManifest(dir, version, { ...body, runs });
      const err = await expectKvError(openStore(dir, SPLIT), 'KV_CORRUPTION');
      expect(err.message).toContain('MANIFEST');
      expect(err.message).toContain(why);
    }
  });

  it('a run whose tables overlap is KV_CORRUPTION', async () => {
    const dir = tempDir();
    const db = await openStore(dir, { ...SPLIT, autoCompact: false });
    await fill(db); // level-0 tables over the same keys
    await db.close();
    const { body } = readManifest(dir);
    writeManifest(dir, 2, { ...body, runs: [[(body.levels as number[][])[0]?.length], [], []] });
    const err = await expectKvError(openStore(dir, SPLIT), 'KV_CORRUPTION');
    expect(err.message).toContain('not ascending and disjoint');
  });
});
