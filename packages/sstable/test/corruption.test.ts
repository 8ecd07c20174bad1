import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isKvError, type KvRecord } from '@kv/record';
import { BlockCache, Table, writeTable } from '@kv/sstable';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, MemoryFs, numbered, rejectsWith, sameRecord, tempDir } from './helpers.js';

const PATH = 'damaged.sst';
const RECORDS = numbered(40, 12);
const ABSENT = [enc(''), enc('k00003x'), enc('k'), enc('z'), enc('k00039\xff')];

/** How a damaged copy of the table failed: at open, at a later read, or not at all. */
type Outcome = 'open' | 'read' | 'clean';

function expectCorruptionError(err: unknown): void {
  if (!isKvError(err, 'KV_CORRUPTION')) throw new Error(`expected KV_CORRUPTION, got ${String(err)}`, { cause: err });
  expect(err.message).toMatch(/corrupt table damaged\.sst at offset \d+: /);
}

/**
 * Opens `bytes` as a table (with `cache`, if given) and reads all of it. Anything thrown must
 * be KV_CORRUPTION naming the file and an offset; anything returned must equal what was written.
 */
async function readDamaged(bytes: Uint8Array, cache?: BlockCache, forScan = false): Promise<Outcome> {
  const fs = new MemoryFs();
  fs.files.set(PATH, bytes);
  let table: Table;
  try {
    const access = forScan ? 'scan' : 'random';
    table = await Table.open(PATH, cache === undefined ? { fs, access } : { fs, cache, access });
  } catch (err) {
    expectCorruptionError(err);
    return 'open';
  }
  let failed = false;
  const attempt = (read: () => void) => {
    try {
      read();
    } catch (err) {
      expectCorruptionError(err);
      failed = true;
    }
  };
  for (const r of RECORDS) {
    attempt(() => {
      const got = table.get(r.key);
      if (got === undefined || !sameRecord(got, r)) throw new Error(`wrong data for ${r.keyString()}`);
    });
  }
  for (const r of RECORDS) {
    attempt(() => {
      const got = table.getValue(r.key);
      const want = r.tombstone ? null : r.value;
      const same = got === want || (got instanceof Uint8Array && want !== null && Buffer.from(got).equals(want));
      if (!same) throw new Error(`getValue: wrong data for ${r.keyString()}`);
    });
  }
  for (const key of ABSENT) {
    attempt(() => {
      if (table.get(key) !== undefined) throw new Error('found an absent key');
      if (table.getValue(key) !== undefined) throw new Error('getValue found an absent key');
    });
  }
  for (const reverse of [false, true]) {
    attempt(() => {
      const want = reverse ? [...RECORDS].reverse() : RECORDS;
      let i = 0;
      for (const got of table.entries({ reverse }, { views: forScan })) {
        if (!sameRecord(got, want[i++] as KvRecord)) throw new Error(`wrong record at ${i - 1}`);
      }
      if (i !== want.length) throw new Error(`scan ended after ${i} records`);
    });
  }
  table.close();
  return failed ? 'read' : 'clean';
}

/**
 * Flips each bit of `original` in turn and reads the damaged copy with `read`: every flip must
 * be detected. Returns how many were found at open and how many on a later read.
 */
async function flipEveryBit(
  original: Uint8Array,
  read: (damaged: Uint8Array) => Promise<Outcome>,
): Promise<{ open: number; read: number }> {
  const seen = { open: 0, read: 0 };
  for (let at = 0; at < original.length; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const damaged = original.slice();
      damaged[at] = (damaged[at] as number) ^ (1 << bit);
      const outcome = await read(damaged);
      expect(outcome, `bit ${bit} of byte ${at} flipped`).not.toBe('clean');
      seen[outcome as 'open' | 'read']++;
    }
  }
  return seen;
}

describe('corruption', () => {
  let original: Uint8Array;
  beforeAll(async () => {
    const fs = new MemoryFs();
    await writeTable(PATH, RECORDS, { blockBytes: 160, fs });
    original = fs.files.get(PATH) as Uint8Array;
  });

  it('the undamaged table reads back completely (the sweep baseline)', async () => {
    expect(original.length).toBeGreaterThan(1000);
    expect(await readDamaged(original)).toBe('clean');
  });

  it('TruncatedAtEveryOffset: each is KV_CORRUPTION at open', async () => {
    for (let size = 0; size < original.length; size++) {
      expect(await readDamaged(original.slice(0, size)), `truncated to ${size}`).toBe('open');
    }
  });

  it('BitFlipAtEveryByte: every single-bit flip is detected, never a wrong answer or another error', async () => {
    const seen = await flipEveryBit(original, (damaged) => readDamaged(damaged));
    // Data-block damage surfaces when the block is read; filter, index and footer damage at open.
    expect(seen.open).toBeGreaterThan(0);
    expect(seen.read).toBeGreaterThan(0);
  });

  it("BitFlipAtEveryByte, opened for a scan (access 'scan') and scanned through views: every flip is detected", async () => {
    const seen = await flipEveryBit(original, (damaged) => readDamaged(damaged, undefined, true));
    expect(seen.open).toBeGreaterThan(0);
    expect(seen.read).toBeGreaterThan(0);
    expect(await readDamaged(original, undefined, true)).toBe('clean');
  });

  it('BitFlipAtEveryByte with a block cache: every single-bit flip is still detected', async () => {
    // Gets read every record before the scans, so cached blocks and their verified entries are exercised.
    const cache = new BlockCache({ maxBytes: 4 * BlockCache.SLOT_BYTES });
    await flipEveryBit(original, (damaged) => readDamaged(damaged, cache));
    expect(await readDamaged(original, cache)).toBe('clean');
    expect(cache.stats().hits).toBeGreaterThan(0);
    expect(cache.stats().entries).toBe(0);
  });

  it('ZeroedRuns: a run of zeros anywhere is detected', async () => {
    for (let at = 0; at < original.length; at += 13) {
      const damaged = original.slice();
      damaged.fill(0, at, at + 16);
      if (damaged.every((b, i) => b === original[i])) continue;
      expect(await readDamaged(damaged), `zeros at ${at}`).not.toBe('clean');
    }
  });

  it('TrailingGarbage: bytes appended after the footer are KV_CORRUPTION at open', async () => {
    const longer = new Uint8Array(original.length + 5);
    longer.set(original);
    expect(await readDamaged(longer)).toBe('open');
  });

  it('corruption is sticky: after a bad block, every call on the table fails with the same error', async () => {
    const damaged = original.slice();
    damaged[3] = (damaged[3] as number) ^ 0x10; // inside the first entry of block 0
    const fs = new MemoryFs();
    fs.files.set(PATH, damaged);
    const table = await Table.open(PATH, { fs });
    let first: unknown;
    try {
      table.get(RECORDS[0]?.key as Uint8Array);
    } catch (err) {
      first = err;
    }
    expect(isKvError(first, 'KV_CORRUPTION')).toBe(true);
    expect(() => table.get(RECORDS[39]?.key as Uint8Array)).toThrow(first as Error);
    expect(() => table.entries()).toThrow(first as Error);
  });
});

describe('corrupt files on disk (the mmap path)', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  const file = (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('ZeroLengthFile is KV_CORRUPTION', async () => {
    await rejectsWith(
      Table.open(file('zero.sst', new Uint8Array(0))),
      'KV_CORRUPTION',
      /zero\.sst at offset 0: empty file/,
    );
  });

  it('ShorterThanFooter is KV_CORRUPTION', async () => {
    await rejectsWith(
      Table.open(file('short.sst', new Uint8Array(71))),
      'KV_CORRUPTION',
      /shorter than the 72-byte footer/,
    );
  });

  it('GarbageFile is KV_CORRUPTION (bad magic)', async () => {
    const garbage = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) & 0xff);
    await rejectsWith(Table.open(file('garbage.sst', garbage)), 'KV_CORRUPTION', /bad magic/);
  });

  it('GarbageWithMagic is KV_CORRUPTION (footer checksum)', async () => {
    const garbage = Uint8Array.from({ length: 500 }, (_, i) => (i * 31) & 0xff);
    garbage.set(enc('kvsstabl'), 492);
    await rejectsWith(Table.open(file('magic.sst', garbage)), 'KV_CORRUPTION', /footer checksum mismatch/);
  });

  it('DamagedDataBlock in a mapped file is KV_CORRUPTION at get, naming file and offset', async () => {
    const path = join(dir, 'mapped.sst');
    await writeTable(path, numbered(200, 50));
    const { readFileSync } = await import('node:fs');
    const bytes = new Uint8Array(readFileSync(path));
    bytes[10] = (bytes[10] as number) ^ 1;
    writeFileSync(path, bytes);
    const table = await Table.open(path);
    expect(() => table.get(enc('k00000'))).toThrow(/mapped\.sst at offset 0: entry 0 checksum mismatch/);
  });
});
