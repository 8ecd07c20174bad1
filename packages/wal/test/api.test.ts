import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeRecord, KvRecord } from '@kv/record';
import type { EncodedRun } from '@kv/wal';
import { DEFAULT_WAL_OPTIONS, realFs, Wal } from '@kv/wal';
import { afterEach, describe, expect, it } from 'vitest';
import { expectKvError, keys, rec, SMALL, segmentFiles, tempDir } from './helpers.js';
import { residentKB } from '../../../test/resident.js';

const open: Wal[] = [];
async function openWal(dir: string, options: Parameters<typeof Wal.open>[1] = {}): Promise<Wal> {
  const wal = await Wal.open(dir, { ...SMALL, ...options });
  open.push(wal);
  return wal;
}
afterEach(async () => {
  for (const w of open.splice(0)) await w.close().catch(() => {});
});

describe('Wal.open', () => {
  it('creates the directory and a first segment, empty: firstIndex 1, lastIndex 0', async () => {
    const dir = path.join(tempDir(), 'nested', 'wal');
    const wal = await openWal(dir);
    expect(wal.segmentCount).toBe(1);
    expect(wal.firstIndex).toBe(1);
    expect(wal.lastIndex).toBe(0);
    expect(segmentFiles(dir)).toEqual(['wal-00000000000000000001.log']);
    expect(fs.statSync(path.join(dir, segmentFiles(dir)[0] as string)).size).toBe(SMALL.maxSegmentBytes);
  });

  it('rejects bad options with TypeError or KV_INVALID_ARGUMENT and leaves no files', async () => {
    const dir = path.join(tempDir(), 'never');
    await expect(Wal.open(dir, { maxRecordsPerSegment: '3' as unknown as number })).rejects.toThrow(TypeError);
    await expectKvError(Wal.open(dir, { maxRecordsPerSegment: 0 }), 'KV_INVALID_ARGUMENT');
    await expectKvError(Wal.open(dir, { maxSegmentBytes: 100 }), 'KV_INVALID_ARGUMENT');
    await expectKvError(Wal.open(dir, { sync: 'sometimes' as 'always' }), 'KV_INVALID_ARGUMENT');
    await expectKvError(Wal.open(dir, { name: '../escape' }), 'KV_INVALID_ARGUMENT');
    await expect(Wal.open(42 as unknown as string)).rejects.toThrow(TypeError);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('does not mutate the caller options and has frozen defaults', async () => {
    const options = { ...SMALL, bufferCapacity: 5 };
    const copy = { ...options };
    await openWal(tempDir(), options);
    expect(options).toEqual(copy);
    expect(Object.isFrozen(DEFAULT_WAL_OPTIONS)).toBe(true);
  });

  it('a second opener of the same directory gets KV_LOCKED; after close it can open', async () => {
    const dir = tempDir();
    const first = await Wal.open(dir, SMALL);
    await expectKvError(Wal.open(dir, SMALL), 'KV_LOCKED');
    await first.close();
    await (await Wal.open(dir, SMALL)).close();
  });
});

describe('appending and reading', () => {
  it('gives consecutive indices that survive reopen', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, SMALL);
    expect(await wal.append(rec(1))).toBe(1);
    expect(await wal.append(rec(2))).toBe(2);
    expect(await wal.appendBatch([rec(3), rec(4)])).toEqual([3, 4]);
    await wal.close();
    const again = await openWal(dir);
    expect([again.firstIndex, again.lastIndex]).toEqual([1, 4]);
    expect(again.get(3).keyString()).toBe('Key03');
    expect(keys(again.getRange(2, 4))).toEqual(['Key02', 'Key03']);
    expect([...again.entries()].map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(await again.append(rec(5))).toBe(5);
  });

  it('entries({ views: true }) yields the same records as views of the log, copies otherwise', async () => {
    const dir = tempDir();
    const wal = await openWal(dir);
    await wal.append(rec(1));
    await wal.appendBatch([rec(2), rec(3)]);
    await wal.append(new KvRecord({ key: 'gone', tombstone: true, seq: 4 }));
    await wal.close();
    const again = await openWal(dir);
    const copies = [...again.entries()].map((e) => e.record);
    const views = [...again.entries(undefined, undefined, { views: true })].map((e) => e.record);
    expect(views).toEqual(copies);
    // Views all point into one buffer (the segment's); copies do not point into it.
    const buffers = new Set(views.flatMap((r) => [r.key.buffer, r.value.buffer]));
    expect(buffers.size).toBe(1);
    expect(copies.some((r) => buffers.has(r.key.buffer))).toBe(false);
  });

  it('keeps every field of a record, binary keys and tombstones included', async () => {
    const wal = await openWal(tempDir());
    const odd = new KvRecord({ key: Uint8Array.of(0, 255, 7), value: Uint8Array.of(1, 2), seq: 2 ** 40, timestamp: 5 });
    const del = KvRecord.tombstoneFor('gone', 3);
    await wal.appendBatch([odd, del]);
    expect(wal.get(1)).toEqual(odd);
    expect(wal.get(2)).toEqual(del);
  });

  it('get and readSegmentAt outside the live range are RangeErrors', async () => {
    const wal = await openWal(tempDir());
    await wal.append(rec(1));
    expect(() => wal.get(0)).toThrow(RangeError);
    expect(() => wal.get(2)).toThrow(RangeError);
    expect(() => wal.readSegmentAt(-1)).toThrow(RangeError);
    expect(() => wal.readSegmentAt(1.5)).toThrow(RangeError);
    expect(() => wal.readSegmentsInRange(1, 0)).toThrow(RangeError);
  });

  it('rolls over by bytes when a frame no longer fits, and by record count', async () => {
    const big = 'x'.repeat(20_000);
    const wal = await openWal(tempDir(), { maxRecordsPerSegment: 100 });
    for (let i = 1; i <= 7; i++) await wal.append(rec(i, big));
    expect(wal.segmentCount).toBe(3); // 3 frames of ~20 KB fit a 64 KiB segment
    expect(wal.readSegmentAt(0).length).toBe(3);
    const byCount = await openWal(tempDir(), { maxRecordsPerSegment: 2 });
    for (let i = 1; i <= 5; i++) await byCount.append(rec(i));
    expect(byCount.segmentCount).toBe(3);
  });

  it('segmentLastIndex gives each live segment its last index, following truncateFront', async () => {
    const wal = await openWal(tempDir(), { maxRecordsPerSegment: 2 });
    expect(wal.segmentLastIndex(0)).toBe(0); // empty: firstIndex - 1
    for (let i = 1; i <= 5; i++) await wal.append(rec(i));
    expect([0, 1, 2].map((i) => wal.segmentLastIndex(i))).toEqual([2, 4, 5]);
    await wal.truncateFront(3);
    expect(wal.segmentCount).toBe(2);
    expect([0, 1].map((i) => wal.segmentLastIndex(i))).toEqual([4, 5]);
    expect(() => wal.segmentLastIndex(2)).toThrow(RangeError);
    expect(() => wal.segmentLastIndex(-1)).toThrow(RangeError);
    expect(() => wal.segmentLastIndex(0.5)).toThrow(RangeError);
  });

  it('an oversized record is KV_TOO_LARGE and writes nothing', async () => {
    const wal = await openWal(tempDir(), { limits: { maxKeyBytes: 8, maxValueBytes: 8 } });
    await expectKvError(wal.append(rec(1, 'far too long')), 'KV_TOO_LARGE');
    await expectKvError(wal.append(KvRecord.fromStrings('a', 'y'.repeat(70_000))), 'KV_TOO_LARGE');
    expect(wal.lastIndex).toBe(0);
  });

  it('a frame larger than a segment is KV_TOO_LARGE', async () => {
    const wal = await openWal(tempDir());
    await expectKvError(
      wal.appendBatch(Array.from({ length: 5 }, (_, i) => rec(i, 'z'.repeat(15_000)))),
      'KV_TOO_LARGE',
    );
    expect(wal.lastIndex).toBe(0);
  });

  it('wrong argument types are TypeErrors', async () => {
    const wal = await openWal(tempDir());
    await expect(wal.append({ key: 'k' } as unknown as KvRecord)).rejects.toThrow(TypeError);
    await expect(wal.appendBatch('x' as unknown as KvRecord[])).rejects.toThrow(TypeError);
    await expect(wal.truncate('1' as unknown as number)).rejects.toThrow(TypeError);
  });

  it('a batch is written as one frame even past maxRecordsPerSegment, in a fresh segment', async () => {
    const wal = await openWal(tempDir(), { maxRecordsPerSegment: 3 });
    await wal.append(rec(1));
    await wal.appendBatch([rec(2), rec(3), rec(4), rec(5)]);
    expect(wal.segmentCount).toBe(2);
    expect(keys(wal.readSegmentAt(1))).toEqual(['Key02', 'Key03', 'Key04', 'Key05']);
  });

  it('concurrent appends all resolve, in order, sharing syncs (group commit)', async () => {
    const wal = await openWal(tempDir());
    const indices = await Promise.all(Array.from({ length: 64 }, (_, i) => wal.append(rec(i))));
    expect(indices).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(wal.stats().syncs).toBeLessThan(64);
    expect(wal.stats().durableIndex).toBe(64);
  });

  it('writers woken by a sync join the writers already waiting: one cohort per sync, not two taking turns', async () => {
    // Each sync takes 3 ms, far longer than a writer takes to resubmit. Half the writers
    // start while the first sync runs, so they wait for the next one. If that next sync
    // started at once, it would take only them, the first half would wait for the one
    // after, and the two halves would take turns for good (~16 per sync); all 32 share
    // every sync after the first instead.
    const slow = {
      ...realFs,
      async fdatasync(fd: number) {
        await new Promise((resolve) => setTimeout(resolve, 3));
        return realFs.fdatasync(fd);
      },
    };
    const wal = await Wal.open(tempDir(), { sync: 'always', fs: slow });
    const writers = 32;
    const rounds = 24;
    const before = wal.stats().syncs;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        if (w >= writers / 2) await new Promise((resolve) => setTimeout(resolve, 1));
        for (let r = 0; r < rounds; r++) await wal.append(rec(w * rounds + r));
      }),
    );
    const syncs = wal.stats().syncs - before;
    expect(wal.stats().durableIndex).toBe(writers * rounds);
    expect((writers * rounds) / syncs).toBeGreaterThan(writers * 0.85);
    await wal.close();
  });

  it("sync 'none' resolves without syncing; sync() makes it durable", async () => {
    const wal = await openWal(tempDir(), { sync: 'none' });
    await wal.append(rec(1));
    expect(wal.stats().durableIndex).toBe(0);
    await wal.sync();
    expect(wal.stats().durableIndex).toBe(1);
  });
});

describe('dropping entries', () => {
  it('truncateFront drops whole segments below an index, never splitting one', async () => {
    const dir = tempDir();
    const wal = await openWal(dir, { maxRecordsPerSegment: 2 });
    for (let i = 1; i <= 5; i++) await wal.append(rec(i)); // [1,2] [3,4] [5]
    expect(await wal.truncateFront(4)).toBe(1);
    expect(wal.firstIndex).toBe(3);
    expect(await wal.truncateFront(100)).toBe(1); // never the last segment
    expect(wal.firstIndex).toBe(5);
    expect(wal.get(5).keyString()).toBe('Key05');
    expect(segmentFiles(dir).length).toBe(1);
  });

  it.runIf(process.platform === 'linux')(
    'deleted segments give their mapped pages back; views of them still read the same bytes',
    async () => {
      /** Resident KB of the deleted segments mapped from `dir`. */
      const deletedResident = (dir: string) => residentKB((p) => p.startsWith(dir) && p.endsWith(' (deleted)'));
      const fillReadAndDrop = async (walFs: typeof realFs) => {
        const dir = tempDir();
        const wal = await openWal(dir, { maxSegmentBytes: 1 << 20, fs: walFs });
        const value = 'v'.repeat(1000);
        for (let i = 0; i < 1500; i++) await wal.bufferedAppend(KvRecord.fromStrings(`k${i}`, value));
        await wal.flushBuffer();
        expect(wal.segmentCount).toBe(2);
        const views = [...wal.encodedRuns()].filter((r) => r.stable).map((r) => r.bytes);
        const copies = views.map((v) => v.slice()); // reads every page of the mapping
        await wal.truncateFront(wal.lastIndex);
        expect(wal.segmentCount).toBe(1);
        const kb = deletedResident(dir);
        views.forEach((v, i) => {
          expect(Buffer.compare(v, copies[i] as Uint8Array)).toBe(0);
        });
        return kb;
      };
      expect(await fillReadAndDrop(realFs)).toBe(0);
      // The same without dropPages: the deleted segment's pages stay mapped.
      const { dropPages: _, ...keepPages } = realFs;
      expect(await fillReadAndDrop(keepPages)).toBeGreaterThan(500);
    },
  );

  it('truncate(index) drops later entries durably; the next append reuses index + 1', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, maxRecordsPerSegment: 2 });
    for (let i = 1; i <= 5; i++) await wal.append(rec(i));
    await wal.truncate(3);
    expect(wal.lastIndex).toBe(3);
    expect(await wal.append(rec(40))).toBe(4);
    await wal.close();
    const again = await openWal(dir, { maxRecordsPerSegment: 2 });
    expect(keys(again.readAllSegments())).toEqual(['Key01', 'Key02', 'Key03', 'Key40']);
    await expect(again.truncate(99)).rejects.toThrow(RangeError);
  });

  it('operations after close are KV_NOT_OPEN', async () => {
    const wal = await Wal.open(tempDir(), SMALL);
    await wal.close();
    await expectKvError(wal.append(rec(1)), 'KV_NOT_OPEN');
    await expectKvError(() => wal.readAllSegments(), 'KV_NOT_OPEN');
    await expectKvError(() => wal.segmentCount, 'KV_NOT_OPEN');
    await wal.close(); // idempotent
  });

  it('close flushes buffered entries', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, bufferCapacity: 10 });
    await wal.bufferedAppend(rec(1));
    await wal.close();
    const again = await openWal(dir);
    expect(keys(again.readAllSegments())).toEqual(['Key01']);
  });
});

/** Decodes every entry of every run, with the run's index range and stability. */
function fromRuns(runs: Iterable<EncodedRun>) {
  const out: { index: number; record: KvRecord; stable: boolean }[] = [];
  for (const run of runs) {
    expect(run.count).toBeGreaterThan(0);
    for (let i = 0; i < run.count; i++) {
      const start = run.spans[2 * i] as number;
      const end = run.spans[2 * i + 1] as number;
      const { record, size } = decodeRecord(run.bytes, start, undefined, { end });
      expect(size).toBe(end - start); // verified: the record's own checksum holds
      out.push({ index: run.firstIndex + i, record, stable: run.stable });
    }
  }
  return out;
}

/** [firstIndex, count, stable] of each run, read as it comes (the run object is reused). */
function shapes(runs: Iterable<EncodedRun>) {
  const out: [number, number, boolean][] = [];
  for (const r of runs) out.push([r.firstIndex, r.count, r.stable]);
  return out;
}

describe('encodedRuns', () => {
  it('yields every entry of [start, end) as a record in place, across segments, as entries() does', async () => {
    const dir = tempDir();
    const wal = await openWal(dir);
    const all = Array.from({ length: 5000 }, (_, i) => rec(i + 1, 'v'.repeat(i % 97)));
    for (let i = 0; i < all.length; i += 250) await wal.appendBatch(all.slice(i, i + 250));
    expect(wal.segmentCount).toBeGreaterThan(3);
    const written = fromRuns(wal.encodedRuns()).map((e) => e.record);
    await wal.close();
    const again = await openWal(dir); // now read from segments found at recovery
    expect(fromRuns(again.encodedRuns()).map((e) => e.record)).toEqual(written);
    for (const [a, b] of [
      [1, 5001],
      [1, 1],
      [777, 4321],
      [4999, 5001],
    ] as const) {
      const got = fromRuns(again.encodedRuns(a, b));
      expect(got.map((e) => e.index)).toEqual(Array.from({ length: b - a }, (_, i) => a + i));
      expect(got.map((e) => e.record)).toEqual([...again.entries(a, b)].map((e) => e.record));
      expect(got.every((e) => e.stable)).toBe(true);
    }
    expect(written.length).toBe(5000);
  });

  it('a run stays inside one segment and holds at most 4096 entries', async () => {
    const wal = await openWal(tempDir(), { maxSegmentBytes: 4 * 1024 * 1024, maxRecordsPerSegment: 10_000 });
    await wal.appendBatch(Array.from({ length: 10_000 }, (_, i) => rec(i)));
    await wal.appendBatch(Array.from({ length: 3 }, (_, i) => rec(i)));
    expect(shapes(wal.encodedRuns())).toEqual([
      [1, 4096, true],
      [4097, 4096, true],
      [8193, 1808, true],
      [10_001, 3, true],
    ]);
  });

  it('frames not yet written to the file come as a run of their own, marked not stable', async () => {
    let holding = false;
    const held: (() => void)[] = [];
    const seam = {
      ...realFs,
      async fdatasync(fd: number) {
        if (holding) await new Promise<void>((resolve) => held.push(resolve));
        return realFs.fdatasync(fd);
      },
    };
    const wal = await openWal(tempDir(), { fs: seam });
    holding = true;
    const first = wal.appendBatch([rec(1), rec(2)]);
    while (held.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const second = wal.appendBatch([rec(3), rec(4), rec(5)]); // coalesced in memory behind the held sync
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(shapes(wal.encodedRuns())).toEqual([
      [1, 2, true],
      [3, 3, false],
    ]);
    expect(fromRuns(wal.encodedRuns(2, 5)).map((e) => e.record.keyString())).toEqual(['Key02', 'Key03', 'Key04']);
    holding = false;
    for (const r of held.splice(0)) r();
    await Promise.all([first, second]);
    expect(shapes(wal.encodedRuns())).toEqual([[1, 5, true]]);
  });

  it('re-encodes the entries of a JSON segment as binary records', async () => {
    const dir = tempDir();
    const a = await Wal.open(dir, SMALL);
    await a.appendBatch([rec(1), rec(2)]);
    await a.close();
    const b = await openWal(dir, { codec: 'json' });
    const binary = new KvRecord({ key: 'k', value: Uint8Array.of(0xff, 0xfe), seq: 4, timestamp: 1 });
    await b.appendBatch([binary, KvRecord.tombstoneFor('gone')]);
    const got = fromRuns(b.encodedRuns());
    expect(got.map((e) => e.record)).toEqual([...b.entries()].map((e) => e.record));
    expect(got[2]?.record).toEqual(binary);
    expect(got[3]?.record.tombstone).toBe(true);
  });

  it('refuses bad ranges, and a closed log', async () => {
    const wal = await openWal(tempDir());
    await wal.append(rec(1));
    expect(() => wal.encodedRuns(0, 1).next()).toThrow(RangeError);
    expect(() => wal.encodedRuns(1, 3).next()).toThrow(RangeError);
    expect(() => wal.encodedRuns(1.5, 2).next()).toThrow(TypeError);
    const runs = wal.encodedRuns();
    await wal.close();
    await expectKvError(() => runs.next(), 'KV_NOT_OPEN');
  });
});

describe('json codec', () => {
  it('writes human-readable entries, records the codec in the header, and reads them back', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, codec: 'json' });
    const binary = new KvRecord({ key: 'k', value: Uint8Array.of(0xff, 0xfe), seq: 4, timestamp: 1 });
    await wal.appendBatch([KvRecord.fromStrings('hello', 'world'), binary, KvRecord.tombstoneFor('gone')]);
    await wal.close();
    const raw = fs.readFileSync(path.join(dir, segmentFiles(dir)[0] as string));
    expect(raw[10]).toBe(1);
    expect(raw.toString('latin1')).toContain('"key":"hello","value":"world"');
    const again = await openWal(dir, { codec: 'json' });
    expect(again.get(1).valueString()).toBe('world');
    expect(again.get(2)).toEqual(binary);
    expect(again.get(3).tombstone).toBe(true);
  });

  it('switching codecs starts a new segment, and both stay readable', async () => {
    const dir = tempDir();
    const a = await Wal.open(dir, SMALL);
    await a.append(rec(1));
    await a.close();
    const b = await openWal(dir, { codec: 'json' });
    await b.append(rec(2));
    expect(b.segmentCount).toBe(2);
    expect(keys(b.readAllSegments())).toEqual(['Key01', 'Key02']);
  });
});

describe('append paths', () => {
  it('a seam without writeSync appends by copying into the mapping, readable and durable the same way', async () => {
    const dir = tempDir();
    const { writeSync: _unused, ...mappingOnly } = realFs;
    const wal = await Wal.open(dir, { ...SMALL, fs: mappingOnly });
    await wal.append(rec(1));
    await wal.appendBatch([rec(2), rec(3)]);
    expect(keys(wal.readAllSegments())).toEqual(['Key01', 'Key02', 'Key03']);
    await wal.close();
    const again = await openWal(dir);
    expect(keys(again.readAllSegments())).toEqual(['Key01', 'Key02', 'Key03']);
  });
});

describe("coalesced writes under sync 'always'", () => {
  /** A seam that counts writeSync calls and, once `hold()` is called, holds every fdatasync until released. */
  function heldSyncs() {
    let writes = 0;
    let holding = false;
    const held: (() => void)[] = [];
    const fs = {
      ...realFs,
      writeSync(fd: number, data: Uint8Array, position: number) {
        writes++;
        realFs.writeSync?.(fd, data, position);
      },
      async fdatasync(fd: number) {
        if (holding) await new Promise<void>((resolve) => held.push(resolve));
        return realFs.fdatasync(fd);
      },
    };
    const releaseAll = () => {
      for (const r of held.splice(0)) r();
    };
    const hold = () => {
      holding = true;
    };
    const stop = () => {
      holding = false;
      releaseAll();
    };
    return { fs, held, hold, stop, releaseAll, writes: () => writes };
  }

  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('a cohort of appends reaches the file in one write, made just before its sync', async () => {
    const seam = heldSyncs();
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, fs: seam.fs });
    seam.hold();
    const before = seam.writes();
    const first = Array.from({ length: 16 }, (_, i) => wal.append(rec(i + 1)));
    while (seam.held.length === 0) await turn();
    expect(seam.writes() - before).toBe(1); // 16 frames, one write, then the sync
    // Appends while that sync runs wait in memory for the next one.
    const second = Array.from({ length: 16 }, (_, i) => wal.append(rec(i + 17)));
    await turn();
    expect(seam.writes() - before).toBe(1);
    expect(wal.stats().durableIndex).toBe(0);
    while ((await Promise.race([Promise.all(second).then(() => true), turn().then(() => false)])) === false) {
      seam.releaseAll();
    }
    expect(await Promise.all(first)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(seam.writes() - before).toBe(2);
    expect(wal.stats().durableIndex).toBe(32);
    seam.stop();
    await wal.close();
    const again = await openWal(dir);
    expect(keys(again.readAllSegments())).toEqual(Array.from({ length: 32 }, (_, i) => rec(i + 1).keyString()));
  });

  it('entries not yet written to the file read back whole, verified, before their sync', async () => {
    const seam = heldSyncs();
    const wal = await Wal.open(tempDir(), { ...SMALL, fs: seam.fs });
    seam.hold();
    const pending = [wal.append(rec(1)), wal.appendBatch([rec(2), rec(3)])];
    while (seam.held.length === 0) await turn();
    const more = wal.append(rec(4)); // written after the sync started: only in memory
    await turn();
    expect(wal.lastIndex).toBe(4);
    expect([...wal.entries(1, 5, { verify: true })].map((e) => e.record.keyString())).toEqual([
      'Key01',
      'Key02',
      'Key03',
      'Key04',
    ]);
    expect(wal.get(4).value).toEqual(rec(4).value);
    while ((await Promise.race([more.then(() => true), turn().then(() => false)])) === false) seam.releaseAll();
    await Promise.all(pending);
    seam.stop();
    await wal.close();
  });

  it('frames past the coalescing limit are written early, so memory stays bounded', async () => {
    const seam = heldSyncs();
    const wal = await Wal.open(tempDir(), { maxSegmentBytes: 16 * 1024 * 1024, fs: seam.fs });
    seam.hold();
    const big = (i: number) => new KvRecord({ key: new Uint8Array([i]), value: new Uint8Array(300 * 1024).fill(i) });
    const before = seam.writes();
    const all = Array.from({ length: 8 }, (_, i) => wal.append(big(i)));
    while (seam.held.length === 0) await turn();
    // 8 frames of ~300 KiB: written 3 + 3 as the 1 MiB limit is reached, 2 before the sync.
    expect(seam.writes() - before).toBe(3);
    while ((await Promise.race([Promise.all(all).then(() => true), turn().then(() => false)])) === false) {
      seam.releaseAll();
    }
    expect(wal.get(8).value[0]).toBe(7);
    seam.stop();
    await wal.close();
  });
});

describe('when a group-commit sync starts', () => {
  /** A seam whose fdatasync takes `ms` of wall time and is counted. */
  function slowSyncs(ms: number) {
    const seam = {
      calls: 0,
      fs: {
        ...realFs,
        async fdatasync(fd: number) {
          seam.calls++;
          await new Promise((resolve) => setTimeout(resolve, ms));
          return realFs.fdatasync(fd);
        },
      },
    };
    return seam;
  }
  /** Runs `n` microtask hops: no macrotask (setImmediate, I/O) can run meanwhile. */
  async function microtasks(n: number) {
    for (let i = 0; i < n; i++) await new Promise<void>((resolve) => queueMicrotask(resolve));
  }
  function spin(ms: number) {
    const end = performance.now() + ms;
    while (performance.now() < end);
  }

  it('waits one event-loop turn for more writers when writing is quick', async () => {
    const seam = slowSyncs(20);
    const wal = await Wal.open(tempDir(), { ...SMALL, fs: seam.fs });
    await wal.append(rec(1)); // times one sync
    const before = seam.calls;
    const a = wal.append(rec(2));
    await microtasks(50);
    const b = wal.append(rec(3));
    await microtasks(50);
    expect(seam.calls).toBe(before); // not before the turn ends
    await Promise.all([a, b]);
    expect(seam.calls).toBe(before + 1); // both in one sync
    await wal.close();
  });

  it('starts at once when writers have kept the loop busy longer than a sync takes', async () => {
    const seam = slowSyncs(20);
    const wal = await Wal.open(tempDir(), { ...SMALL, fs: seam.fs });
    // The log times this sync; on a busy machine it can take well over its 20 ms (a late
    // timer), and the append that waited for it took at least as long.
    const t0 = performance.now();
    await wal.append(rec(1));
    const syncMs = performance.now() - t0;
    const before = seam.calls;
    const a = wal.append(rec(2));
    await microtasks(50);
    spin(syncMs + 10); // a writer's CPU work, longer than the sync was timed at
    const b = wal.append(rec(3));
    await microtasks(50);
    expect(seam.calls).toBe(before + 1); // started without waiting for the turn
    await Promise.all([a, b]);
    expect(wal.stats().durableIndex).toBe(3);
    await wal.close();
  });
});
