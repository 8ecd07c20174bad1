import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_KV_STORE_OPTIONS, KvStore } from '@kv/engine';
import { KvRecord, type RecordType } from '@kv/record';
import { nodeTableFs, type TableFs } from '@kv/sstable';
import { Wal } from '@kv/wal';
import { afterEach, describe, expect, it } from 'vitest';
import { closeOpenStores, entries, expectKvError, openStore, prng, tempDir, text, TINY } from './helpers.js';
import { residentKB } from '../../../test/resident.js';

afterEach(closeOpenStores);

describe('put, get, delete', () => {
  it('reads its own writes, strings and bytes alike', async () => {
    const db = await openStore();
    await db.put('a', '1');
    await db.put(Uint8Array.of(0, 255), Uint8Array.of(7));
    expect(text(db.get('a'))).toBe('1');
    expect(db.get(Uint8Array.of(0, 255))).toEqual(Uint8Array.of(7));
    expect(db.get('missing')).toBeUndefined();
  });

  it('overwrites and deletes; a deleted key is undefined, not an error', async () => {
    const db = await openStore();
    await db.put('k', 'old');
    await db.put('k', 'new');
    expect(text(db.get('k'))).toBe('new');
    await db.delete('k');
    expect(db.get('k')).toBeUndefined();
    await db.delete('never-there');
  });

  it('copies caller buffers: mutating them after put changes nothing', async () => {
    const db = await openStore();
    const key = Uint8Array.of(1, 2);
    const value = Uint8Array.of(3, 4);
    await db.put(key, value);
    key[0] = 9;
    value[0] = 9;
    expect(db.get(Uint8Array.of(1, 2))).toEqual(Uint8Array.of(3, 4));
  });

  it('keeps data across flush, compaction and reopen', async () => {
    const dir = tempDir();
    const db = await KvStore.open(dir, TINY);
    for (let i = 0; i < 500; i++) await db.put(`key${String(i).padStart(4, '0')}`, `value${i}`);
    for (let i = 0; i < 500; i += 3) await db.delete(`key${String(i).padStart(4, '0')}`);
    expect(db.stats().flushes).toBeGreaterThan(0);
    await db.close();
    const again = await openStore(dir);
    for (let i = 0; i < 500; i++) {
      expect(text(again.get(`key${String(i).padStart(4, '0')}`))).toBe(i % 3 === 0 ? undefined : `value${i}`);
    }
    await again.compact();
    expect(again.stats().tables).toBe(1);
    expect(entries(again).length).toBe(500 - 167);
  });
});

describe('waitForCompaction', () => {
  it('leaves no level at or over runsPerLevel, and the data whole', async () => {
    const db = await openStore(tempDir(), { runsPerLevel: 2 });
    for (let round = 0; round < 12; round++) {
      const ops = [];
      for (let i = 0; i < 40; i++) ops.push({ type: 'put' as const, key: `k${round}-${i}`, value: `v${round}-${i}` });
      await db.batch(ops);
      await db.flush(); // one level-0 run per round
    }
    await db.waitForCompaction();
    const runs = db.stats().levels.map((l) => l.runs);
    expect(runs.slice(0, -1).every((n) => n < 2)).toBe(true);
    expect(db.stats().memtable.entries).toBe(0);
    expect(text(db.get('k0-0'))).toBe('v0-0');
    expect(text(db.get('k11-39'))).toBe('v11-39');
    expect(entries(db).length).toBe(12 * 40);
  });

  it('returns at once with autoCompact off, leaving the runs as they are', async () => {
    const db = await openStore(tempDir(), { runsPerLevel: 2, autoCompact: false });
    for (let round = 0; round < 3; round++) {
      await db.put(`k${round}`, 'v');
      await db.flush();
    }
    await db.waitForCompaction();
    expect(db.stats().levels[0]?.runs).toBe(3);
  });

  it('after close is KV_NOT_OPEN', async () => {
    const db = await openStore();
    await db.close();
    await expectKvError(db.waitForCompaction(), 'KV_NOT_OPEN');
  });
});

describe('batch', () => {
  it('applies puts and deletes together', async () => {
    const db = await openStore();
    await db.put('gone', 'x');
    await db.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'del', key: 'gone' },
      { type: 'put', key: 'b', value: '2' },
    ]);
    expect(entries(db)).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('a batch with one bad operation writes nothing', async () => {
    const db = await openStore();
    await expect(
      db.batch([
        { type: 'put', key: 'a', value: '1' },
        { type: 'nope' as 'put', key: 'b', value: '2' },
      ]),
    ).rejects.toMatchObject({ code: 'KV_INVALID_ARGUMENT' });
    await expect(db.batch([{ type: 'put', key: 'a', value: 5 as unknown as string }])).rejects.toThrow(TypeError);
    expect(db.get('a')).toBeUndefined();
    expect(db.stats().wal.lastIndex).toBe(0);
  });
});

describe('argument checking', () => {
  it('wrong types are TypeErrors and change nothing', async () => {
    const db = await openStore();
    await expect(db.put(1 as unknown as string, 'v')).rejects.toThrow(TypeError);
    await expect(db.put('k', null as unknown as string)).rejects.toThrow(TypeError);
    await expect(db.batch('x' as never)).rejects.toThrow(TypeError);
    expect(() => db.get({} as unknown as string)).toThrow(TypeError);
    expect(() => db.iterator({ gt: 5 as unknown as string })).toThrow(TypeError);
    expect(db.stats().wal.lastIndex).toBe(0);
  });

  it('empty keys are KV_INVALID_ARGUMENT; oversized ones KV_TOO_LARGE', async () => {
    const db = await openStore(tempDir(), { limits: { maxKeyBytes: 8, maxValueBytes: 8 } });
    await expectKvError(db.put('', 'v'), 'KV_INVALID_ARGUMENT');
    await expectKvError(db.put('much too long', 'v'), 'KV_TOO_LARGE');
    await expectKvError(db.put('k', 'much too long'), 'KV_TOO_LARGE');
  });

  it('bad options fail the open with a clear message and create nothing', async () => {
    const dir = path.join(tempDir(), 'never');
    await expectKvError(KvStore.open(dir, { memtableBytes: -1 }), 'KV_INVALID_ARGUMENT');
    await expectKvError(KvStore.open(dir, { sync: 'maybe' as 'always' }), 'KV_INVALID_ARGUMENT');
    await expectKvError(KvStore.open(dir, { colour: 'red' } as never), 'KV_INVALID_ARGUMENT');
    await expect(KvStore.open(dir, { autoCompact: 'yes' as unknown as boolean })).rejects.toThrow(TypeError);
    await expectKvError(KvStore.open(dir, { tableBytes: 512 }), 'KV_INVALID_ARGUMENT');
    await expectKvError(KvStore.open(dir, { tableBytes: 2 ** 31 }), 'KV_INVALID_ARGUMENT');
    await expect(KvStore.open(dir, { tableBytes: '64k' as unknown as number })).rejects.toThrow(TypeError);
    expect(fs.existsSync(dir)).toBe(false);
    expect(Object.isFrozen(DEFAULT_KV_STORE_OPTIONS)).toBe(true);
  });
});

describe('lifecycle', () => {
  it('a second open of the same directory is KV_LOCKED', async () => {
    const dir = tempDir();
    await openStore(dir);
    await expectKvError(KvStore.open(dir, TINY), 'KV_LOCKED');
  });

  it('every call after close is KV_NOT_OPEN; close is idempotent', async () => {
    const db = await KvStore.open(tempDir(), TINY);
    await db.put('a', '1');
    const it = db.iterator();
    await db.close();
    await db.close();
    await expectKvError(db.put('a', '2'), 'KV_NOT_OPEN');
    await expectKvError(() => db.get('a'), 'KV_NOT_OPEN');
    await expectKvError(() => db.iterator(), 'KV_NOT_OPEN');
    await expectKvError(() => it.next(), 'KV_NOT_OPEN');
    await expectKvError(() => db.stats(), 'KV_NOT_OPEN');
  });

  it('supports await using (Symbol.asyncDispose)', async () => {
    const dir = tempDir();
    {
      await using db = await KvStore.open(dir, TINY);
      await db.put('a', '1');
    }
    const db = await openStore(dir);
    expect(text(db.get('a'))).toBe('1');
  });

  it('a missing MANIFEST in a store with data is KV_CORRUPTION', async () => {
    const dir = tempDir();
    const db = await KvStore.open(dir, TINY);
    await db.put('a', '1');
    await db.close();
    fs.unlinkSync(path.join(dir, 'MANIFEST'));
    const err = await expectKvError(KvStore.open(dir, TINY), 'KV_CORRUPTION');
    expect(err.message).toContain('MANIFEST');
  });
});

describe('iterator', () => {
  async function abc(): Promise<KvStore> {
    const db = await openStore();
    for (const k of ['a', 'b', 'c', 'd', 'e']) await db.put(k, k.toUpperCase());
    return db;
  }

  it('honours gt, gte, lt, lte, reverse and limit', async () => {
    const db = await abc();
    const keys = (o: object) => entries(db, o).map(([k]) => k);
    expect(keys({})).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(keys({ gt: 'b', lte: 'd' })).toEqual(['c', 'd']);
    expect(keys({ gte: 'b', lt: 'd' })).toEqual(['b', 'c']);
    expect(keys({ reverse: true, limit: 2 })).toEqual(['e', 'd']);
    expect(keys({ gte: 'b', lt: 'e', reverse: true })).toEqual(['d', 'c', 'b']);
    expect(keys({ limit: 0 })).toEqual([]);
    expect(keys({ gt: 'z' })).toEqual([]);
  });

  it('sees a snapshot: later writes, deletes, flushes and compactions do not change it', async () => {
    const db = await abc();
    const it = db.iterator();
    await db.put('c', 'changed');
    await db.delete('a');
    await db.put('f', 'F');
    await db.flush();
    await db.compact();
    expect([...it].map(([k, v]) => `${text(k)}=${text(v)}`)).toEqual(['a=A', 'b=B', 'c=C', 'd=D', 'e=E']);
    expect(entries(db).map(([k]) => k)).toEqual(['b', 'c', 'd', 'e', 'f']);
  });

  it('merges memtable and tables, the newest version winning and tombstones hiding', async () => {
    const db = await openStore();
    for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(3, '0')}`, 'old');
    await db.flush();
    await db.put('k005', 'new');
    await db.delete('k006');
    const all = entries(db);
    expect(all.length).toBe(299);
    expect(all[5]).toEqual(['k005', 'new']);
    expect(all[6]?.[0]).toBe('k007');
  });

  it('works with for await', async () => {
    const db = await abc();
    const seen: string[] = [];
    for await (const [k] of db.iterator({ limit: 3 })) seen.push(text(k) as string);
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

describe('stats', () => {
  it('reports memtable, levels, WAL and recovery', async () => {
    const dir = tempDir();
    const db = await KvStore.open(dir, TINY);
    for (let i = 0; i < 200; i++) await db.put(`k${i}`, 'v'.repeat(50));
    await db.flush();
    const s = db.stats();
    expect(s.lastSeq).toBe(200);
    expect(s.flushes).toBeGreaterThan(0);
    expect(s.levels.reduce((n, l) => n + l.entries, 0)).toBeGreaterThanOrEqual(200);
    expect(s.memtable.entries).toBe(0);
    expect(s.wal.segments).toBeGreaterThanOrEqual(1);
    await db.close();
    const again = await openStore(dir);
    expect(again.stats().recovery.replayed).toBeLessThan(200);
    expect(again.stats().lastSeq).toBe(200);
  });
});

describe('replay', () => {
  it('fills memtables from a WAL larger than one, and flushes them after open() resolves', async () => {
    const dir = tempDir();
    const db = await openStore(dir, { memtableBytes: 1 << 20, walSegmentBytes: 1 << 20 });
    await db.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: `v${i}` })));
    await db.put('k7', 'overwritten');
    await db.delete('k8');
    await db.close(); // close does not flush: all of it is in the WAL

    const events: string[] = [];
    const again = await openStore(dir, {
      memtableBytes: 8192,
      walSegmentBytes: 1 << 20,
      onEventForTesting: (e) => events.push(e),
    });
    const s = again.stats();
    expect(s.recovery.replayed).toBe(2002);
    expect(s.immutableMemtables).toBeGreaterThan(3);
    expect(s.flushes).toBe(0);
    expect(events).not.toContain('flush:start'); // not even its synchronous part (the sort) ran in open()
    expect(text(again.get('k1999'))).toBe('v1999');
    expect(text(again.get('k7'))).toBe('overwritten');
    expect(again.get('k8')).toBeUndefined();
    expect(entries(again).length).toBe(1999);

    await again.waitForCompaction();
    expect(again.stats().immutableMemtables).toBe(0);
    expect(again.stats().flushes).toBeGreaterThan(3);
    expect(entries(again).length).toBe(1999);
    await again.close();
    const third = await openStore(dir, { walSegmentBytes: 1 << 20 });
    expect(third.stats().recovery.replayed).toBe(0);
    expect(text(third.get('k0'))).toBe('v0');
    expect(entries(third).length).toBe(1999);
  });
});

describe('replay keeps views of the WAL, and hands out copies', () => {
  const walBytes = (dir: string) =>
    fs
      .readdirSync(path.join(dir, 'wal'))
      .sort()
      .map((f) => fs.readFileSync(path.join(dir, 'wal', f)).toString('hex'))
      .join();

  it('writing into values read after replay changes neither the store nor the log', async () => {
    const dir = tempDir();
    const db = await openStore(dir, { memtableBytes: 1 << 20 });
    await db.put('k', 'value-1');
    await db.batch([
      { type: 'put', key: 'j', value: 'value-2' },
      { type: 'put', key: 'l', value: 'value-3' },
    ]);
    await db.close(); // all of it stays in the WAL
    const before = walBytes(dir);
    const again = await openStore(dir, { memtableBytes: 1 << 20 });
    expect(again.stats().recovery.replayed).toBe(3);
    again.get('k')?.fill(0x58);
    for (const [key, value] of again.iterator()) {
      key.fill(0x59);
      value.fill(0x5a);
    }
    await again.transaction((tx) => {
      tx.get('l')?.fill(0x5b);
    });
    expect(entries(again)).toEqual([
      ['j', 'value-2'],
      ['k', 'value-1'],
      ['l', 'value-3'],
    ]);
    await again.close();
    expect(walBytes(dir)).toBe(before);
    const third = await openStore(dir);
    expect(entries(third)).toEqual([
      ['j', 'value-2'],
      ['k', 'value-1'],
      ['l', 'value-3'],
    ]);
  });

  it('a WAL entry whose frame checks out but whose record does not is KV_CORRUPTION naming it; nothing changes', async () => {
    const dir = tempDir();
    await (await KvStore.open(dir, TINY)).close(); // a manifest, and an empty WAL
    const wal = await Wal.open(path.join(dir, 'wal'), { maxSegmentBytes: TINY.walSegmentBytes as number });
    const good = (i: number) => new KvRecord({ key: `k${i}`, value: `v${i}`, seq: i + 1 });
    const bad = KvRecord.trusted(Buffer.from('kx'), Buffer.from('vx'), false, 0, 4, 99 as RecordType);
    await wal.appendBatch([good(0), good(1), good(2), bad, good(4)]);
    await wal.close();
    const before = walBytes(dir);
    const err = await expectKvError(KvStore.open(dir, TINY), 'KV_CORRUPTION');
    expect(err.message).toMatch(/replaying the WAL run of entries 1-5 .*encoded record 3: .*unknown record type 99/);
    expect(walBytes(dir)).toBe(before);
    await expectKvError(KvStore.open(dir, TINY), 'KV_CORRUPTION'); // the failed open let go of the lock
  });

  it('replays thousands of entries across segments and memtables as they were written, skipping what tables hold', async () => {
    const dir = tempDir();
    const options = { memtableBytes: 1 << 16, walSegmentBytes: 1 << 16 };
    const db = await openStore(dir, { ...options, memtableBytes: 64 << 20 });
    const model = new Map<string, string>();
    const random = prng(11);
    for (let round = 0; round < 40; round++) {
      const ops = Array.from({ length: 250 }, () => {
        const key = `key${Math.floor(random() * 3000)}`;
        if (random() < 0.1) return { type: 'del' as const, key };
        return { type: 'put' as const, key, value: `v${round}-${Math.floor(random() * 1e9)}`.repeat(1 + (round % 3)) };
      });
      await db.batch(ops);
      for (const op of ops) {
        if (op.type === 'del') model.delete(op.key);
        else model.set(op.key, op.value);
      }
      if (round === 9) await db.flush(); // the first 2,500 writes are in a table, the rest in the WAL only
    }
    const flushedSeq = db.stats().flushedSeq;
    await db.close();
    const expected = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const again = await openStore(dir, options);
    const r = again.stats().recovery;
    expect(flushedSeq).toBe(2500);
    expect(r.replayed).toBe(7500);
    expect(r.skipped).toBe(again.stats().wal.firstIndex <= 2500 ? 2501 - again.stats().wal.firstIndex : 0);
    expect(again.stats().immutableMemtables).toBeGreaterThan(5);
    expect(again.stats().lastSeq).toBe(10_000);
    expect(entries(again)).toEqual(expected);
    for (const [k, v] of expected.slice(0, 200)) expect(text(again.get(k))).toBe(v);
    await again.waitForCompaction();
    expect(entries(again)).toEqual(expected);
    await again.put('after', 'replay');
    expect(again.stats().lastSeq).toBe(10_001);
  });
});

describe('WAL low-water mark', () => {
  it('a version replaced in an unflushed memtable holds the mark back: it is what a crash recovers if the replacing write is lost', async () => {
    const dir = tempDir();
    let hold: Promise<void> | undefined;
    let release = () => {};
    const held: TableFs = {
      ...nodeTableFs,
      async open(p, mode) {
        if (mode === 'write' && hold !== undefined) await hold;
        return nodeTableFs.open(p, mode);
      },
    };
    const options = { ...TINY, memtableBytes: 1 << 20, autoCompact: false, tableFs: held };
    const db = await KvStore.open(dir, options);
    await db.put('a', 'old'); // seq 1
    hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const flushing = db.flush(); // the memtable holding seq 1 is being flushed, its table write held
    await db.put('k', 'v1'); // seq 2, into the new memtable
    await db.put('k', 'v2'); // seq 3 replaces seq 2 there
    hold = undefined;
    release();
    await flushing;
    expect(db.stats().flushedSeq).toBe(1); // not 2: seq 2 is in no table
    await db.close();

    // A crash that loses seq 3 (say it was never synced) but keeps seq 2.
    const wal = await Wal.open(path.join(dir, 'wal'), { maxSegmentBytes: TINY.walSegmentBytes as number });
    const at = [...wal.entries()].find((e) => e.record.seq === 2)?.index as number;
    await wal.truncate(at);
    await wal.close();
    const again = await openStore(dir, options);
    expect(text(again.get('k'))).toBe('v1');
    expect(text(again.get('a'))).toBe('old');
  });

  it.runIf(process.platform === 'linux')(
    'flushes drop whole segments below the mark without reading the log through its mapping',
    async () => {
      const dir = tempDir();
      const db = await openStore(dir, { memtableBytes: 256 * 1024, walSegmentBytes: 8 << 20, autoCompact: false });
      const value = new Uint8Array(100).fill(9);
      for (let b = 0; b < 80; b++) {
        await db.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: `k${b}-${i}`, value })));
      }
      await db.flush();
      const s = db.stats();
      expect(s.flushes).toBeGreaterThan(20);
      expect(s.wal.segments).toBe(1); // ~11 MB written in 8 MiB segments: the first was dropped
      // Appends write through the page cache, so only reads map the log's pages: a binary
      // search over every entry at each flush left MBs of them resident; deleted segments
      // kept theirs until their mapping was collected.
      const kb = residentKB((p) => p.startsWith(path.join(dir, 'wal')));
      expect(kb).toBeLessThan(1536); // a read maps a whole page-cache folio, up to 1 MiB here
      expect(db.get('k0-0')).toEqual(value);
      expect(db.get('k79-999')).toEqual(value);
    },
  );
});

describe('block cache', () => {
  it('counts hits and misses of table reads in stats(); 0 disables it', async () => {
    const db = await openStore(tempDir(), { blockCacheBytes: 1 << 20 });
    for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(3, '0')}`, 'v'.repeat(40));
    await db.flush();
    for (let round = 0; round < 3; round++) for (let i = 0; i < 300; i += 7) db.get(`k${String(i).padStart(3, '0')}`);
    const s = db.stats().blockCache;
    expect(s.misses).toBeGreaterThan(0);
    expect(s.hits).toBeGreaterThan(s.misses);
    const off = await openStore(tempDir(), { blockCacheBytes: 0 });
    await off.put('a', '1');
    await off.flush();
    expect(text(off.get('a'))).toBe('1');
    expect(off.stats().blockCache.hits + off.stats().blockCache.misses).toBe(0);
  });
});
