import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvRecord } from '@kv/record';
import { Wal } from '@kv/wal';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

// The worked example of FORMAT.md. If these bytes change, every existing log is unreadable.
describe('WAL golden bytes', () => {
  it('segment header and first frame are exactly as FORMAT.md says', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, { maxSegmentBytes: 64 * 1024 });
    await wal.append(new KvRecord({ key: 'Key01', value: 'Val01', seq: 1, timestamp: 1_700_000_000_000 }));
    await wal.close();
    const bytes = fs.readFileSync(path.join(dir, 'wal-00000000000000000001.log'));
    expect(bytes.length).toBe(64 * 1024);
    const hex = (a: number, b: number) => bytes.subarray(a, b).toString('hex');
    expect(hex(0, 32)).toBe(
      '4b5657414c000d0a' + '0100' + '00' + '0000000000' + '0100000000000000' + '0100000000000000',
    );
    // [32, 40) is the creation time; [40, 48) the preallocated size; [48, 60) reserved; [60, 64) checksum.
    expect(hex(40, 48)).toBe('0000010000000000');
    expect(hex(48, 60)).toBe('00'.repeat(12));
    expect(hex(64, 136)).toBe(
      'be4f2467' +
        '2e000000' +
        '0100000000000000' +
        '01000000' +
        '40000000' +
        '2a000000' +
        'daf415af0100000001000000000000000068e5cf8b01000005000000050000004b6579303156616c3031' +
        '0000',
    );
    expect(bytes.subarray(136).every((b) => b === 0)).toBe(true);
  });
});
