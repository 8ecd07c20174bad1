import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvRecord } from '@kv/record';
import { Table, writeTable } from '@kv/sstable';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

/** File-backed pages mapped into this process (Linux /proc), in MB. */
function rssFileMB(): number {
  const m = /RssFile:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m === null) throw new Error('no RssFile in /proc/self/status');
  return Number(m[1]) / 1024;
}

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

  it('a dropBehind scan keeps at most a few MB of the table resident, and reads it all', async () => {
    const table = await Table.open(path);
    const before = rssFileMB();
    scan(table, true);
    expect(rssFileMB() - before).toBeLessThan(10);
    // Released pages read again correctly: a second pass and a get see the same data.
    scan(table, true);
    expect(table.get(new TextEncoder().encode('k00012345'))?.seq).toBe(12346);
    table.close();
  });
});
