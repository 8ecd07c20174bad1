import { readdirSync } from 'node:fs';
import { KvRecord } from '@kv/record';
import { Wal } from '@kv/wal';
import { describe, expect, it } from 'vitest';
import { FaultFs } from './fault-fs.js';
import { expectKvError, keys, prng, rec, SMALL, segmentFiles, tempDir } from './helpers.js';

describe('injected I/O errors', () => {
  it('ENOSPC while preallocating a segment is KV_IO_ERROR, and no later append is acknowledged', async () => {
    const fs = new FaultFs();
    const dir = tempDir();
    // Without a segment prepared ahead, the rollover preallocates the next one itself.
    const wal = await Wal.open(dir, { ...SMALL, fs, maxRecordsPerSegment: 2, prepareNextSegment: false });
    await wal.append(rec(1));
    await wal.append(rec(2));
    fs.failAt('write', 2, 'ENOSPC'); // the rollover's segment creation (its zeros, then its header)
    const err = await expectKvError(wal.append(rec(3)), 'KV_IO_ERROR');
    expect(err.message).toMatch(/ENOSPC/);
    await expectKvError(wal.append(rec(4)), 'KV_IO_ERROR');
    await expectKvError(() => wal.bufferedAppend(rec(5)), 'KV_IO_ERROR');
    await expect(wal.close()).rejects.toMatchObject({ code: 'KV_IO_ERROR' });
    expect(segmentFiles(dir).length).toBe(1); // the half-made segment was removed
    const again = await Wal.open(dir, SMALL);
    expect(keys(again.readAllSegments())).toEqual(['Key01', 'Key02']);
    await again.close();
  });

  it('EIO on the buffered write of an append is KV_IO_ERROR and sticky; what was acknowledged survives', async () => {
    const fs = new FaultFs();
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, fs });
    await wal.append(rec(1));
    fs.failAt('writeSync', 1, 'EIO');
    await expectKvError(wal.append(rec(2)), 'KV_IO_ERROR');
    await expectKvError(wal.append(rec(3)), 'KV_IO_ERROR');
    expect(fs.calls.writeSync).toBe(2);
    await wal.close().catch(() => {});
    const again = await Wal.open(dir, SMALL);
    expect(keys(again.readAllSegments())).toEqual(['Key01']);
    await again.close();
  });

  it('EIO on fdatasync rejects every waiting append with KV_IO_ERROR and stays failed', async () => {
    const fs = new FaultFs();
    const wal = await Wal.open(tempDir(), { ...SMALL, fs });
    await wal.append(rec(1));
    fs.failAt('fdatasync', 1, 'EIO');
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => wal.append(rec(10 + i))));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'KV_IO_ERROR')).toBe(
      true,
    );
    await expectKvError(wal.append(rec(2)), 'KV_IO_ERROR');
    await expectKvError(wal.sync(), 'KV_IO_ERROR');
    await wal.close().catch(() => {});
  });

  it('EIO on the directory fsync of a segment creation fails the append', async () => {
    const fs = new FaultFs();
    const wal = await Wal.open(tempDir(), { ...SMALL, fs, maxRecordsPerSegment: 1 });
    await wal.append(rec(1));
    fs.failAt('fsyncDir', 1, 'EIO');
    await expectKvError(wal.append(rec(2)), 'KV_IO_ERROR');
    await expectKvError(wal.append(rec(3)), 'KV_IO_ERROR');
    await wal.close().catch(() => {});
  });

  it('EIO on unlink during deleteOldSegments is KV_IO_ERROR', async () => {
    const fs = new FaultFs();
    const wal = await Wal.open(tempDir(), { ...SMALL, fs, maxRecordsPerSegment: 1, lowWaterMark: 2 });
    for (let i = 1; i <= 3; i++) await wal.append(rec(i));
    fs.failAt('unlink', 1, 'EIO');
    await expectKvError(wal.deleteOldSegments(), 'KV_IO_ERROR');
    await wal.close().catch(() => {});
  });

  it('a failure while opening releases the lock', async () => {
    const fs = new FaultFs();
    const dir = tempDir();
    fs.failAt('write', 1, 'ENOSPC');
    await expectKvError(Wal.open(dir, { ...SMALL, fs }), 'KV_IO_ERROR');
    await (await Wal.open(dir, SMALL)).close();
  });
});

describe('power loss: bytes never synced are lost, partly persisted, or garbled', () => {
  for (const mode of ['drop', 'some', 'garble'] as const) {
    it(`every acknowledged durable append survives (${mode}), and the log always opens`, async () => {
      for (let seed = 1; seed <= 12; seed++) {
        const random = prng(seed * 7919 + mode.length);
        const fs = new FaultFs(true);
        const dir = tempDir();
        const wal = await Wal.open(dir, { ...SMALL, fs, maxRecordsPerSegment: 1 + Math.floor(random() * 40) });
        const acked: number[] = [];
        const value = (i: number) => `v${i}-${'x'.repeat(Math.floor(random() * 300))}`;
        // Durable appends (some concurrent), then unsynced buffered writes in flight at the cut.
        for (let round = 0; round < 6; round++) {
          const n = 1 + Math.floor(random() * 10);
          const batch = Array.from({ length: n }, () => {
            const i = acked.length + 1000 * round;
            return wal.append(KvRecord.fromStrings(`k${i}`, value(i))).then((index) => acked.push(index));
          });
          await Promise.all(batch);
        }
        for (let i = 0; i < 5; i++) await wal.bufferedAppend(KvRecord.fromStrings(`u${i}`, value(i)));
        const lastAcked = Math.max(...acked);
        void wal.flushBuffer().catch(() => {}); // in flight at the cut, never acknowledged
        wal.crashForTesting();
        fs.crash(mode, random);

        expect(fs.calls.writeSync ?? 0, 'appends went through the production write path').toBeGreaterThan(0);
        const again = await Wal.open(dir, SMALL);
        expect(again.lastIndex, `seed ${seed}`).toBeGreaterThanOrEqual(lastAcked);
        for (const index of acked) expect(again.get(index).keyString().startsWith('k'), `seed ${seed}`).toBe(true);
        for (const e of again.entries()) expect(e.index).toBeGreaterThanOrEqual(1);
        await again.close();
      }
    });
  }
});

describe('the next segment, prepared in the background', () => {
  const NEXT = 'wal-next.log.tmp';

  async function settled(wal: Wal): Promise<void> {
    while (wal.stats().nextSegment === 'preparing') await new Promise((r) => setTimeout(r, 5));
  }

  it('is prepared once a segment is a quarter full; the rollover then writes only its header', async () => {
    const fs = new FaultFs();
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, fs, maxRecordsPerSegment: 8 });
    await wal.append(rec(1));
    expect(wal.stats().nextSegment).toBe('none');
    await wal.append(rec(2));
    expect(wal.stats().nextSegment).toBe('preparing');
    await settled(wal);
    expect(wal.stats().nextSegment).toBe('ready');
    expect(readdirSync(dir)).toContain(NEXT);
    for (let i = 3; i <= 8; i++) await wal.append(rec(i));
    const writes = fs.calls.write ?? 0;
    await wal.append(rec(9)); // rolls over
    expect((fs.calls.write ?? 0) - writes).toBe(1); // the header; the zeros were written before
    expect(wal.segmentCount).toBe(2);
    expect(readdirSync(dir)).not.toContain(NEXT);
    await wal.close();
    const again = await Wal.open(dir, SMALL);
    expect(keys(again.readAllSegments())).toEqual(Array.from({ length: 9 }, (_, i) => `Key0${i + 1}`));
    expect(again.stats().recovery.removed).toEqual([]);
    await again.close();
  });

  it('a failure while preparing it fails the log: KV_IO_ERROR, sticky, and the file is removed', async () => {
    const fs = new FaultFs();
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, fs, maxRecordsPerSegment: 2 });
    fs.failAt('write', 1, 'ENOSPC'); // the preparation's zeros (appends write through writeSync)
    await wal.append(rec(1));
    await settled(wal);
    expect(wal.stats().nextSegment).toBe('failed');
    expect(readdirSync(dir)).not.toContain(NEXT);
    const err = await expectKvError(wal.append(rec(2)), 'KV_IO_ERROR');
    expect(err.message).toMatch(/preparing the next WAL segment.*ENOSPC/);
    await expectKvError(wal.append(rec(3)), 'KV_IO_ERROR');
    await wal.close().catch(() => {});
    const again = await Wal.open(dir, SMALL);
    expect(keys(again.readAllSegments())).toEqual(['Key01']);
    await again.close();
  });

  it('a failure turning it into the next segment is KV_IO_ERROR and sticky, and the file is removed', async () => {
    const fs = new FaultFs();
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, fs, maxRecordsPerSegment: 2 });
    await wal.append(rec(1));
    await settled(wal);
    await wal.append(rec(2));
    fs.failAt('rename', 1, 'EIO');
    await expectKvError(wal.append(rec(3)), 'KV_IO_ERROR');
    await expectKvError(wal.append(rec(4)), 'KV_IO_ERROR');
    expect(readdirSync(dir)).not.toContain(NEXT);
    await wal.close().catch(() => {});
    const again = await Wal.open(dir, SMALL);
    expect(keys(again.readAllSegments())).toEqual(['Key01', 'Key02']);
    await again.close();
  });

  it('one left by a crash is removed at open; one left at close is removed by close', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, maxRecordsPerSegment: 2 });
    await wal.append(rec(1));
    await settled(wal);
    wal.crashForTesting();
    expect(readdirSync(dir)).toContain(NEXT);
    const again = await Wal.open(dir, { ...SMALL, maxRecordsPerSegment: 2 });
    expect(again.stats().recovery.removed).toEqual([NEXT]);
    expect(readdirSync(dir)).not.toContain(NEXT);
    await again.append(rec(2));
    await settled(again);
    expect(readdirSync(dir)).toContain(NEXT);
    await again.close();
    expect(readdirSync(dir)).not.toContain(NEXT);
  });

  it('prepareNextSegment must be a boolean; false prepares nothing', async () => {
    await expect(Wal.open(tempDir(), { prepareNextSegment: 'yes' as unknown as boolean })).rejects.toThrow(TypeError);
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, maxRecordsPerSegment: 2, prepareNextSegment: false });
    for (let i = 1; i <= 3; i++) await wal.append(rec(i));
    expect(wal.stats().nextSegment).toBe('none');
    expect(readdirSync(dir)).not.toContain(NEXT);
    await wal.close();
  });
});
