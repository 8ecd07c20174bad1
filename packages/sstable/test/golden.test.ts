import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvRecord, RecordType, xxh32 } from '@kv/record';
import { hashKey, TABLE_FORMAT_VERSION, Table, writeTable } from '@kv/sstable';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enc, expectSameRecord, hex, tempDir } from './helpers.js';

/** The worked example of FORMAT.md: these bytes are the wire format and must never change. */
const GOLDEN_RECORDS = () => [
  new KvRecord({ key: 'apple', value: 'red', seq: 1, timestamp: 1_700_000_000_000 }),
  new KvRecord({ key: 'apricot', tombstone: true, seq: 2, timestamp: 1_700_000_000_000 }),
];

const GOLDEN_HEX = [
  // data block 0 @0, 71 bytes. Entry "apple" @0: keyLen, key, meta, valueLen, seq, timestamp, value
  '05' + '6170706c65' + '00' + '03' + '01' + '80d095ffbc31' + '726564',
  // entry "apricot" @18: a tombstone (meta bit 0), no value
  '07' + '61707269636f74' + '01' + '00' + '02' + '80d095ffbc31',
  // slots @35: offset, key prefix after the shared "ap", entry checksum
  '00000000' + '706c6500' + 'b6678f03',
  '12000000' + '7269636f' + '2ab9ff4e',
  // block trailer @59: shared prefix 2, count 2, checksum of slots and trailer
  '02000000' + '02000000' + '5de9fdf6',
  // filter @71, 76 bytes: m = 512 bits (one block), k word 0x80000007 (blocked, 7 probes), the bits, checksum
  '00020000' + '07000080',
  '00000020001804000000010000000000' + '02000000080008000000040000000000',
  '00000000000000000000000000000000' + '08000000000000000090020000000000',
  'e03925d7',
  // index @147, 40 bytes: block 0 at offset 0, 71 bytes, first key "apple", last key "apricot"
  '0000000000000000' + '47000000' + '05000000' + '07000000' + '6170706c65' + '61707269636f74',
  // block count 1, index checksum
  '01000000' + '3d833f72',
  // footer @187, 72 bytes: count, tombstones, minSeq, maxSeq, filter offset, index offset,
  // filter length, index length, version, checksum, magic "kvsstabl"
  '0200000000000000' + '0100000000000000' + '0100000000000000' + '0200000000000000',
  '4700000000000000' + '9300000000000000' + '4c000000' + '28000000' + '01000000' + '6f01ebb8',
  '6b7673737461626c',
].join('');

describe('table format: golden bytes (FORMAT.md worked example)', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('writes the worked example to exactly these 259 bytes', async () => {
    const path = join(dir, 'golden.sst');
    const info = await writeTable(path, GOLDEN_RECORDS());
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(259);
    expect(info.fileBytes).toBe(259);
    expect(hex(bytes)).toBe(GOLDEN_HEX);
  });

  it('reads the worked example back', async () => {
    const path = join(dir, 'golden.sst');
    await writeTable(path, GOLDEN_RECORDS());
    const table = await Table.open(path);
    expect(table.info).toMatchObject({ count: 2, tombstones: 1, minSeq: 1, maxSeq: 2, fileBytes: 259 });
    expect(hex(table.info.minKey)).toBe(hex(enc('apple')));
    expect(hex(table.info.maxKey)).toBe(hex(enc('apricot')));
    const [apple, apricot] = GOLDEN_RECORDS() as [KvRecord, KvRecord];
    expectSameRecord(table.get(enc('apple')), apple);
    expectSameRecord(table.get(enc('apricot')), apricot);
    expect(table.get(enc('banana'))).toBeUndefined();
    table.close();
  });

  it('derives checksums and filter bits as FORMAT.md describes', async () => {
    const path = join(dir, 'golden.sst');
    await writeTable(path, GOLDEN_RECORDS());
    const b = new Uint8Array(readFileSync(path));
    const u32 = (p: number) => Buffer.from(b).readUInt32LE(p);
    // Entry checksums (seed "kvEN") cover each entry; the block checksum (seed "kvBD") its slots and trailer.
    expect(u32(43)).toBe(xxh32(b.subarray(0, 18), 0x6b76454e));
    expect(u32(55)).toBe(xxh32(b.subarray(18, 35), 0x6b76454e));
    expect(u32(67)).toBe(xxh32(b.subarray(35, 67), 0x6b764244));
    expect(u32(143)).toBe(xxh32(b.subarray(71, 143), 0x6b764246));
    expect(u32(183)).toBe(xxh32(b.subarray(147, 183), 0x6b764249));
    expect(u32(247)).toBe(xxh32(b.subarray(187, 247), 0x6b764654));
    expect(u32(243)).toBe(TABLE_FORMAT_VERSION);
    // Blocked filter: m = 512 is one block, the k word is the blocked flag (bit 31) | 7 probes.
    expect(u32(71)).toBe(512);
    expect(u32(75)).toBe(0x80000000 + 7);
    // Key with h1, h2 = xxh32(key, "kvH1"), xxh32(key, "kvH2") sets bits x >>> 23 of block
    // (h1 · m / 512) >> 32, for x = h2, h2·0x9e3779b9, h2·0x9e3779b9², ... (mod 2^32), 7 of them.
    const blocks = u32(71) / 512;
    const expected = new Uint8Array(64 * blocks);
    for (const key of ['apple', 'apricot']) {
      const h = hashKey(enc(key));
      expect(h.h1).toBe(xxh32(enc(key), 0x6b764831));
      expect(h.h2).toBe(xxh32(enc(key), 0x6b764832));
      const block = Number((BigInt(h.h1) * BigInt(blocks)) >> 32n);
      let x = BigInt(h.h2);
      for (let i = 0; i < 7; i++) {
        const bit = 512 * block + Number(x >> 23n);
        expected[bit >> 3] = (expected[bit >> 3] as number) | (1 << (bit & 7));
        x = (x * 0x9e3779b9n) % 2n ** 32n;
      }
    }
    // Every bit set in the file is one of the keys' bits, and every key bit is set.
    expect(hex(b.subarray(79, 143))).toBe(hex(expected));
  });

  it('stores the record type in the meta byte', async () => {
    const path = join(dir, 'typed.sst');
    await writeTable(path, [new KvRecord({ key: 'h', value: 'x', type: RecordType.HyperLogLog, timestamp: 0 })]);
    expect(readFileSync(path)[2]).toBe(RecordType.HyperLogLog << 1);
    const table = await Table.open(path);
    expect(table.get(enc('h'))?.type).toBe(RecordType.HyperLogLog);
  });
});
