import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { describe, expect, it } from 'vitest';
import { FaultPlan, Rng, SimDisk, tempDir } from './lib/index.mjs';
import { cleanUpTempDirs, text } from './helpers.js';

cleanUpTempDirs();

// Package bugs this suite found (fixed in 2292353), each reproduced exactly.

describe('regressions found by the torture suite', () => {
  it("a new store's acknowledged write survives a power cut before its first flush (wal/ is fsynced into the store directory)", async () => {
    const dir = tempDir('regression');
    const disk = new SimDisk(dir, new Rng(1));
    const db = await KvStore.open(dir, { fs: disk.engineFs, walFs: disk.walFs, tableFs: disk.tableFs });
    await db.put('acknowledged', 'durable'); // resolved: fdatasync'd under sync 'always'
    disk.crash('drop'); // POSIX: 'wal/' is a name in the store directory, durable only once it is fsynced
    const image = tempDir('regression-image');
    disk.writeImage(image);
    const again = await KvStore.open(image);
    try {
      expect(text(again.get('acknowledged'))).toBe('durable');
    } finally {
      await again.close();
    }
  });

  it('an I/O error while a new store writes its first MANIFEST leaves a directory that opens', async () => {
    const dir = tempDir('regression');
    const plan = new FaultPlan();
    plan.arm('engine.writeFileSynced', 1, 'EIO');
    await expect(KvStore.open(dir, plan.seams())).rejects.toMatchObject({ code: 'KV_IO_ERROR' });
    // Before the fix 'tables/' existed without a MANIFEST: "MANIFEST is missing but the store has data"
    const db = await KvStore.open(dir);
    await db.close();
  });

  it('EIO listing the store directory while opening is KV_IO_ERROR, not a raw system error', async () => {
    const dir = tempDir('regression');
    await (await KvStore.open(dir)).close();
    const plan = new FaultPlan();
    plan.arm('engine.readdir', 1, 'EIO');
    await expect(KvStore.open(dir, plan.seams())).rejects.toMatchObject({ code: 'KV_IO_ERROR' });
  });

  it('EIO listing the WAL directory while opening is KV_IO_ERROR, not a raw system error', async () => {
    const dir = tempDir('regression');
    await (await KvStore.open(dir)).close();
    const plan = new FaultPlan();
    plan.arm('wal.readdir', 1, 'EIO');
    await expect(KvStore.open(dir, plan.seams())).rejects.toMatchObject({ code: 'KV_IO_ERROR' });
  });

  it('a last WAL segment cut back to its header is KV_CORRUPTION, not ten silently lost writes', async () => {
    const dir = tempDir('regression');
    const db = await KvStore.open(dir, { memtableBytes: 1 << 20, walSegmentBytes: 64 * 1024 });
    for (let i = 0; i < 10; i++) await db.put(`k${i}`, `v${i}`);
    await db.close();
    const wal = path.join(dir, 'wal');
    const [segment] = fs.readdirSync(wal).filter((f) => f.endsWith('.log'));
    fs.truncateSync(path.join(wal, segment as string), 64); // a preallocated segment never shrinks in a crash
    await expect(KvStore.open(dir)).rejects.toMatchObject({ code: 'KV_CORRUPTION' });
  });

  it('a version replaced by a write a power cut then lost is recovered (the WAL low-water mark does not pass over it)', async () => {
    // Power seed 2599: the mark counted only the versions a memtable still held.
    const dir = tempDir('regression');
    const first = await KvStore.open(dir, { memtableBytes: 1 << 20 });
    await first.put('a', 'x'.repeat(1500)); // seq 1
    await first.put('k', 'v1'); // seq 2, durable: fdatasync'd under sync 'always'
    await first.close(); // no flush: both are in the WAL only

    const disk = new SimDisk(dir, new Rng(7));
    let release = () => {};
    let hold: Promise<void> | undefined = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tableFs = {
      ...disk.tableFs,
      async open(p: string, mode: 'read' | 'write') {
        if (mode === 'write' && hold !== undefined) await hold;
        return disk.tableFs.open(p, mode);
      },
    };
    let events: (e: string) => void = () => {};
    const flushed = new Promise<void>((resolve) => {
      events = (e: string) => {
        if (e === 'flush:wal-truncated') resolve();
      };
    });
    // Replay fills a 1 KiB memtable with seq 1 and starts a new one for seq 2; the full one is
    // flushed after open, its table write held until seq 2 is replaced.
    const db = await KvStore.open(dir, {
      sync: 'none',
      memtableBytes: 1024,
      autoCompact: false,
      fs: disk.engineFs,
      walFs: disk.walFs,
      tableFs,
      onEventForTesting: (e) => events(e),
    });
    await db.put('k', 'v2'); // seq 3, not synced (sync 'none'): a cut may lose it
    hold = undefined;
    release();
    await flushed;
    expect(db.stats().flushedSeq).toBe(1);
    disk.crash('drop');
    const image = tempDir('regression-image');
    disk.writeImage(image);
    const again = await KvStore.open(image);
    try {
      expect(text(again.get('k'))).toBe('v1'); // was: undefined, seq 2 skipped as flushed
      expect(text(again.get('a'))?.length).toBe(1500);
    } finally {
      await again.close();
    }
  });
});
