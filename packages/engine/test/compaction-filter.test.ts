import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeOpenStores, entries, openStore, tempDir } from './helpers.js';

/** The filter block's length in the table file at `file`: footer bytes 48..51 (sstable FORMAT.md, "Footer"). */
function filterLength(file: string): number {
  const bytes = fs.readFileSync(file);
  return bytes.readUInt32LE(bytes.length - 72 + 48);
}

/** A blocked filter's length for `keys` keys at 10 bits per key: whole 64-byte blocks, plus 12 bytes. */
const filterBytesFor = (keys: number) => 12 + Math.max(1, Math.ceil((keys * 10) / 512)) * 64;

afterEach(closeOpenStores);

const key = (i: number) => `k${String(i).padStart(3, '0')}`;

describe('compaction output filter', () => {
  for (const compactionThread of [true, false]) {
    const where = compactionThread ? 'on the worker thread' : 'on the event loop';
    it(`is sized for the inputs' entries summed, an upper bound on the merged count (${where})`, async () => {
      const dir = tempDir();
      // Two levels: the forced compaction merges every level-0 run into one table, in one job.
      const db = await openStore(dir, { maxLevels: 2, compactionThread, autoCompact: false });
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 300; i++) await db.put(key(i), `r${round}`);
        await db.flush();
      }
      expect(db.stats().levels[0]?.entries).toBe(1200); // four runs of the same 300 keys
      await db.compact();
      expect(db.stats().levels.map((l) => [l.runs, l.entries])).toEqual([
        [0, 0],
        [1, 300],
      ]);
      const tables = fs.readdirSync(path.join(dir, 'tables')).filter((f) => f.endsWith('.sst'));
      expect(tables.length).toBe(1);
      expect(filterLength(path.join(dir, 'tables', tables[0] as string))).toBe(filterBytesFor(1200));
      expect(filterBytesFor(1200)).toBeGreaterThan(filterBytesFor(300));
      expect(entries(db)).toEqual(Array.from({ length: 300 }, (_, i) => [key(i), 'r3']));
    });
  }
});
