import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvRecord } from '@kv/record';
import { Table, writeTable } from '@kv/sstable';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { residentKB } from '../../../test/resident.js';

/** File-backed pages mapped into this process (Linux /proc), in MB. */
function rssFileMB(): number {
  const m = /RssFile:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m === null) throw new Error('no RssFile in /proc/self/status');
  return Number(m[1]) / 1024;
}

/** Pages of the mappings of `file` resident in this process, in MB. */
const mappedMB = (file: string) => residentKB((p) => p === file) / 1024;

const ENTRIES = 40_000;
const VALUE_BYTES = 1000; // ~40 MB of table

function* records() {
  const value = new Uint8Array(VALUE_BYTES).fill(7);
  for (let i = 0; i < ENTRIES; i++) {
    yield new KvRecord({ key: `k${String(i).padStart(8, '0')}`, value, seq: i + 1, timestamp: 0 });
  }
}

describe.runIf(process.platform === 'linux')('resident pages of a mapped table', () => {
  let dir: string;
  let cleanup: () => void;
  let path: string;
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    path = join(dir, 'big.sst');
    await writeTable(path, records());
  });
  afterAll(() => cleanup());

  const scan = (table: Table, dropBehind: boolean) => {
    let n = 0;
    for (const r of table.entries({}, { dropBehind })) n += r.value.length > 0 ? 1 : 0;
    expect(n).toBe(ENTRIES);
  };

  it('a plain scan leaves the table resident; close() gives it back', async () => {
    const table = await Table.open(path);
    const before = rssFileMB();
    scan(table, false);
    const after = rssFileMB();
    expect(after - before).toBeGreaterThan(30);
    table.close();
    expect(rssFileMB() - before).toBeLessThan(5);
  });

  it('an open table keeps neither its filter nor its index resident', async () => {
    const table = await Table.open(path);
    // Open reads the filter (~50 KB here) and the index (~390 KB), which it copies; both give
    // their pages back. What is left is the page where the filter starts and data pages the
    // kernel mapped around it (fault-around, up to 64 KiB).
    expect(mappedMB(path)).toBeLessThan(0.1); // 0.67 MB when the index stayed
    expect(table.get(new TextEncoder().encode('k00000007'))?.seq).toBe(8);
    table.close();
  });

  it('gets fault back in the filter pages they probe, and answer from them', async () => {
    // 100k keys at 24 bits a key: a 300 KB filter, large enough to see page by page.
    const small = join(dir, 'filter.sst');
    const value = new Uint8Array(8).fill(1);
    const key = (i: number) => `f${String(i).padStart(7, '0')}`;
    await writeTable(
      small,
      (function* () {
        for (let i = 0; i < 100_000; i += 1) yield new KvRecord({ key: key(i), value, seq: i + 1, timestamp: 0 });
      })(),
      { bloomBitsPerKey: 24 },
    );
    const table = await Table.open(small);
    expect(mappedMB(small)).toBeLessThan(0.1);
    // Keys that are absent: the filter answers for almost all of them, so the pages they
    // read are the filter's (and the index is a copy): ~300 KB come back.
    const enc = new TextEncoder();
    let found = 0;
    for (let i = 0; i < 20_000; i++) if (table.get(enc.encode(`g${i}`)) !== undefined) found++;
    expect(found).toBe(0);
    expect(mappedMB(small)).toBeGreaterThan(0.25);
    for (const i of [0, 1, 4242, 99_999]) expect(table.get(enc.encode(key(i)))?.seq).toBe(i + 1);
    table.close();
  });

  it("a table opened for a scan (access 'scan') keeps neither its filter nor its index resident, and still answers gets", async () => {
    const table = await Table.open(path, { access: 'scan' });
    // The index is read through the mapping where it lies instead of being copied; what is
    // resident is data pages the kernel mapped around the first reads of the filter and footer.
    expect(mappedMB(path)).toBeLessThan(0.1);
    scan(table, true);
    expect(mappedMB(path)).toBeLessThan(0.5);
    // Gets and ranged scans read the released index and filter pages back in.
    const enc = new TextEncoder();
    expect(table.get(enc.encode('k00031337'))?.seq).toBe(31338);
    expect(table.get(enc.encode('k00031337x'))).toBeUndefined();
    const some = [...table.entries({ gte: enc.encode('k00039998') })].map((r) => r.seq);
    expect(some).toEqual([39999, 40000]);
    table.close();
  });

  it('a dropBehind scan leaves none of the data it read resident, and reads it all', async () => {
    const table = await Table.open(path);
    // Open reads the footer, filter and index: what stays resident for lookups.
    const opened = mappedMB(path);
    scan(table, true);
    // Pages the kernel mapped back around the next read (fault-around, 64 KiB) are released
    // too: releasing only what each step had read left ~10% of the table resident.
    expect(mappedMB(path) - opened).toBeLessThan(0.5);
    expect(rssFileMB()).toBeGreaterThan(0);
    // Released pages read again correctly: a second pass and a get see the same data.
    scan(table, true);
    expect(table.get(new TextEncoder().encode('k00012345'))?.seq).toBe(12346);
    table.close();
  });

  it('a dropBehind scan stopped early releases what it read', async () => {
    const table = await Table.open(path);
    const opened = mappedMB(path);
    let n = 0;
    for (const r of table.entries({}, { dropBehind: true })) {
      if (r.seq > 0) n++;
      if (n === ENTRIES / 2) break;
    }
    expect(mappedMB(path) - opened).toBeLessThan(0.5);
    // Without dropBehind the same half stays resident: the measure sees pages.
    n = 0;
    for (const r of table.entries({}, {})) {
      if (r.seq > 0) n++;
      if (n === ENTRIES / 2) break;
    }
    expect(mappedMB(path) - opened).toBeGreaterThan(15);
    table.close();
  });
});
