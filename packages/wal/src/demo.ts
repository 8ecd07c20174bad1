/**
 * `pnpm demo`: nakevaleng's WAL walk-through against a real directory (./data/demo-wal),
 * printing what each step leaves on disk.
 */
import * as fs from 'node:fs';
import { KvRecord } from '@kv/record';
import { Wal } from './wal.js';

const dir = process.argv[2] ?? 'data/demo-wal';
fs.rmSync(dir, { recursive: true, force: true });
const show = (label: string, recs: KvRecord[]) =>
  console.log(`${label.padEnd(34)} ${recs.map((r) => r.keyString()).join(' ') || '(empty)'}`);
const rec = (i: number) => KvRecord.fromStrings(`Key0${i}`, `Val0${i}`);

const wal = await Wal.open(dir, {
  maxRecordsPerSegment: 3,
  bufferCapacity: 2,
  lowWaterMark: 1,
  maxSegmentBytes: 64 * 1024,
});
await wal.append(rec(1));
for (const i of [2, 3, 4]) await wal.bufferedAppend(rec(i));
await wal.flushBuffer();
show('readLastSegment()', wal.readLastSegment());
show('readSegmentAt(0)', wal.readSegmentAt(0));
try {
  wal.readSegmentAt(2);
} catch (err) {
  console.log(`${'readSegmentAt(2)'.padEnd(34)} ${(err as Error).name}: ${(err as Error).message}`);
}
for (const i of [5, 6, 7, 8]) await wal.bufferedAppend(rec(i));
await wal.flushBuffer();
console.log(`${'segmentCount'.padEnd(34)} ${wal.segmentCount}`);
show('readSegmentsInRange(1, 3)', wal.readSegmentsInRange(1, 3));
await wal.deleteOldSegments();
show('after deleteOldSegments(): seg 0', wal.readSegmentAt(0));
show('                           seg 1', wal.readSegmentAt(1));
await wal.resetLastSegment();
show('after resetLastSegment(): last', wal.readLastSegment());
await wal.close();
console.log(`files in ${dir}: ${fs.readdirSync(dir).join(', ')}`);
