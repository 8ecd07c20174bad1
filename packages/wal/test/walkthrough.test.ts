import { Wal } from '@kv/wal';
import { describe, expect, it } from 'vitest';
import { keys, rec, SMALL, segmentFiles, tempDir } from './helpers.js';

// nakevaleng's README walk-through of its WAL, translated to this API (DESIGN.md).
describe("nakevaleng's WAL walk-through", () => {
  it('works as written', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { ...SMALL, maxRecordsPerSegment: 3, bufferCapacity: 2, lowWaterMark: 1 });

    await wal.append(rec(1)); // immediately appended to the last segment
    await wal.bufferedAppend(rec(2));
    await wal.bufferedAppend(rec(3)); // buffer capacity reached: flushed here
    await wal.bufferedAppend(rec(4)); // has to be flushed manually
    await wal.flushBuffer();

    expect(keys(wal.readLastSegment())).toEqual(['Key04']);
    expect(keys(wal.readSegmentAt(0))).toEqual(['Key01', 'Key02', 'Key03']);
    expect(() => wal.readSegmentAt(2)).toThrow(RangeError);
    expect(keys(wal.readAllSegments())).toEqual(['Key01', 'Key02', 'Key03', 'Key04']);

    for (const i of [5, 6, 7, 8]) await wal.bufferedAppend(rec(i));
    await wal.flushBuffer();
    expect(wal.segmentCount).toBe(3);
    expect(keys(wal.readSegmentAt(1))).toEqual(['Key04', 'Key05', 'Key06']);
    expect(keys(wal.readSegmentAt(2))).toEqual(['Key07', 'Key08']);
    expect(keys(wal.readSegmentsInRange(1, 3))).toEqual(['Key04', 'Key05', 'Key06', 'Key07', 'Key08']);

    expect(await wal.deleteOldSegments()).toBe(1);
    expect(wal.segmentCount).toBe(2);
    expect(keys(wal.readSegmentAt(0))).toEqual(['Key04', 'Key05', 'Key06']);
    expect(keys(wal.readSegmentAt(1))).toEqual(['Key07', 'Key08']);

    await wal.resetLastSegment();
    expect(wal.segmentCount).toBe(2);
    expect(wal.readLastSegment()).toEqual([]);
    expect(keys(wal.readAllSegments())).toEqual(['Key04', 'Key05', 'Key06']);
    await wal.close();

    // File ids stay monotonic: positions were renumbered, files never were.
    expect(segmentFiles(dir)).toEqual(['wal-00000000000000000002.log', 'wal-00000000000000000004.log']);

    const again = await Wal.open(dir, { ...SMALL, maxRecordsPerSegment: 3 });
    expect(again.segmentCount).toBe(2);
    expect(keys(again.readAllSegments())).toEqual(['Key04', 'Key05', 'Key06']);
    expect(again.readLastSegment()).toEqual([]);
    expect(await again.append(rec(9))).toBe(7);
    await again.close();
  });
});
