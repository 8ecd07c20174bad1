import { KvRecord, xxh32 } from '@kv/record';
import { Table, writeTable } from '@kv/sstable';
import { beforeAll, describe, expect, it } from 'vitest';
import { enc, expectKvError, MemoryFs, rejectsWith } from './helpers.js';

/*
 * Damage that checksums cannot catch: bytes altered and then re-sealed with a valid checksum,
 * as a buggy writer or a hostile file would produce. Every length and offset must still be
 * bounded, and each case must be KV_CORRUPTION naming the offset and the reason.
 * Offsets are those of the FORMAT.md worked example (see golden.test.ts).
 */

const SEEDS = { entry: 0x6b76454e, block: 0x6b764244, filter: 0x6b764246, index: 0x6b764249, footer: 0x6b764654 };
/** [checksummed range start, end (= where the checksum is stored), seed] of each structure. */
const SEALS = {
  entry0: [0, 18, 43, SEEDS.entry],
  entry1: [18, 35, 55, SEEDS.entry],
  block: [35, 67, 67, SEEDS.block],
  filter: [71, 143, 143, SEEDS.filter],
  index: [147, 183, 183, SEEDS.index],
  footer: [187, 247, 247, SEEDS.footer],
} as const;

let golden: Uint8Array;
beforeAll(async () => {
  const fs = new MemoryFs();
  await writeTable(
    'g.sst',
    [
      new KvRecord({ key: 'apple', value: 'red', seq: 1, timestamp: 1_700_000_000_000 }),
      new KvRecord({ key: 'apricot', tombstone: true, seq: 2, timestamp: 1_700_000_000_000 }),
    ],
    { fs },
  );
  golden = fs.files.get('g.sst') as Uint8Array;
  expect(golden.length).toBe(259);
});

/**
 * A copy of the golden table with `edit` applied and `seal` re-checksummed. An entry's checksum
 * lives in its slot, so re-sealing an entry re-seals its block too.
 */
function forged(seal: keyof typeof SEALS, edit: (b: Uint8Array, view: DataView) => void): MemoryFs {
  const b = golden.slice();
  edit(b, new DataView(b.buffer));
  const seals = seal.startsWith('entry') ? [seal, 'block' as const] : [seal];
  for (const name of seals) {
    const [from, to, at, seed] = SEALS[name];
    new DataView(b.buffer).setUint32(at, xxh32(b.subarray(from, to), seed), true);
  }
  const fs = new MemoryFs();
  fs.files.set('f.sst', b);
  return fs;
}

const open = (fs: MemoryFs) => Table.open('f.sst', { fs });

describe('forged footer', () => {
  it('UnknownVersion', async () => {
    const fs = forged('footer', (_, v) => v.setUint32(187 + 56, 2, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /offset 243: unknown table format version 2/);
  });

  it('FilterOffsetOffByOne', async () => {
    const fs = forged('footer', (_, v) => v.setUint32(187 + 32, 72, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /footer places the filter at 72/);
  });

  it('CountBeyondSafeInteger', async () => {
    const fs = forged('footer', (_, v) => v.setUint32(187 + 4, 0xffffffff, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /footer counts out of range/);
  });

  it('MoreTombstonesThanEntries', async () => {
    const fs = forged('footer', (_, v) => v.setUint32(187 + 8, 3, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /3 tombstones/);
  });

  it('EntryCountZeroWithBlocks', async () => {
    const fs = forged('footer', (_, v) => {
      v.setUint32(187, 0, true);
      v.setUint32(187 + 8, 0, true);
    });
    await rejectsWith(open(fs), 'KV_CORRUPTION', /0 entries cannot fill 1 blocks/);
  });
});

describe('forged filter and index', () => {
  it('FilterBitsDisagreeWithLength', async () => {
    await rejectsWith(
      open(forged('filter', (_, v) => v.setUint32(71, 1024, true))),
      'KV_CORRUPTION',
      /offset 71: filter of 1024 bits does not fill its 76-byte block/,
    );
  });

  it('FilterHashCountZero', async () => {
    await rejectsWith(open(forged('filter', (_, v) => v.setUint32(75, 0, true))), 'KV_CORRUPTION', /hash count 0/);
  });

  it('BlockedFilterHashCountZero', async () => {
    const fs = forged('filter', (_, v) => v.setUint32(75, 0x80000000, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /offset 75: filter hash count 0 out of range/);
  });

  it('BlockedFilterHashCountAboveThirty', async () => {
    const fs = forged('filter', (_, v) => v.setUint32(75, 0x8000001f, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /offset 75: filter hash count 31 out of range/);
  });

  it('FilterUnknownFlagBits', async () => {
    const fs = forged('filter', (_, v) => v.setUint32(75, 0xc0000007, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /offset 75: filter k word 0xc0000007 has unknown flag bits/);
  });

  it('BlockedFilterBitsNotAMultipleOf512', async () => {
    const fs = forged('filter', (_, v) => v.setUint32(71, 256, true));
    await rejectsWith(
      open(fs),
      'KV_CORRUPTION',
      /offset 71: blocked filter of 256 bits is not a positive multiple of 512/,
    );
  });

  it('IndexBlockLengthPastTheData', async () => {
    const fs = forged('index', (_, v) => v.setUint32(147 + 8, 9999, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /offset 155: block 0 length 9999 out of range/);
  });

  it('IndexCountTooLarge', async () => {
    const fs = forged('index', (_, v) => v.setUint32(179, 1000, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /index block count 1000/);
  });

  it('IndexKeyLengthPastTheIndex', async () => {
    const fs = forged('index', (_, v) => v.setUint32(147 + 16, 60000, true));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /keys run past the index/);
  });

  it('IndexFirstKeyAboveLastKey', async () => {
    const fs = forged('index', (b) => b.set(enc('azple'), 167));
    await rejectsWith(open(fs), 'KV_CORRUPTION', /first key is above its last key/);
  });
});

describe('forged data block (found at read time)', () => {
  const getApricot = async (fs: MemoryFs) => {
    const table = await open(fs);
    return () => table.get(enc('apricot'));
  };

  it('SlotOffsetOutsideEntries', async () => {
    const get = await getApricot(forged('block', (_, v) => v.setUint32(47, 200, true)));
    expectKvError(get, 'KV_CORRUPTION', /entry 1 spans \[200, 35\)/);
  });

  it('EntryCountZero', async () => {
    const get = await getApricot(forged('block', (_, v) => v.setUint32(63, 0, true)));
    expectKvError(get, 'KV_CORRUPTION', /offset 63: data block entry count 0/);
  });

  it('EntryCountBeyondTheBlock', async () => {
    const get = await getApricot(forged('block', (_, v) => v.setUint32(63, 0x10000000, true)));
    expectKvError(get, 'KV_CORRUPTION', /entry count 268435456 does not fit/);
  });

  it('ValueLengthBeyondTheEntry: nothing allocated', async () => {
    const table = await open(forged('entry0', (b) => b.set([0xff, 0xff, 0xff, 0x07], 7)));
    expectKvError(
      () => table.get(enc('apple')),
      'KV_CORRUPTION',
      /offset 16: value of 16777215 bytes does not fill the 2 left/,
    );
  });

  it('KeyLengthBeyondTheEntry', async () => {
    const table = await open(forged('entry0', (b) => b.fill(0xff, 0, 1)));
    expectKvError(() => table.get(enc('apple')), 'KV_CORRUPTION', /offset 0: key of 12543 bytes runs past its entry/);
  });

  it('UnterminatedVarint', async () => {
    const table = await open(forged('entry0', (b) => b.fill(0xff, 7, 18)));
    expectKvError(() => table.get(enc('apple')), 'KV_CORRUPTION', /offset 7: value length is not a valid varint/);
  });

  it('UnknownRecordType', async () => {
    const table = await open(forged('entry0', (b) => b.set([0x0e], 6)));
    expectKvError(() => table.get(enc('apple')), 'KV_CORRUPTION', /offset 6: unknown record type 7/);
  });

  it('TombstoneWithValue', async () => {
    const table = await open(forged('entry0', (b) => b.set([0x01], 6)));
    expectKvError(() => table.get(enc('apple')), 'KV_CORRUPTION', /tombstone with a value/);
  });
});
