import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KvError, KvRecord } from '@kv/record';
import { Table, writeTable } from '@kv/sstable';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FaultPoint, faultyFs, numbered, rec, rejectsWith, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const nothingLeft = () => expect(readdirSync(dir)).toEqual([]);

describe('writeTable: input validation', () => {
  it('rejects keys out of order with KV_INVALID_ARGUMENT and leaves nothing on disk', async () => {
    const records = [rec('b'), rec('a')];
    await rejectsWith(
      writeTable(join(dir, 't.sst'), records),
      'KV_INVALID_ARGUMENT',
      /record 1 is below the previous key/,
    );
    nothingLeft();
  });

  it('rejects a repeated key (two versions) with KV_INVALID_ARGUMENT and leaves nothing on disk', async () => {
    const records = [rec('a', '1', 1), rec('b', '1', 2), rec('b', '2', 3)];
    await rejectsWith(writeTable(join(dir, 't.sst'), records), 'KV_INVALID_ARGUMENT', /repeats the previous key/);
    nothingLeft();
  });

  it('rejects disorder found late, after blocks were already flushed to the file', async () => {
    const records = [...numbered(20_000, 40), rec('a')];
    await rejectsWith(writeTable(join(dir, 't.sst'), records), 'KV_INVALID_ARGUMENT');
    nothingLeft();
  });

  it('rejects an oversized key with KV_TOO_LARGE', async () => {
    const key = new Uint8Array(64 * 1024 + 1);
    await rejectsWith(writeTable(join(dir, 't.sst'), [new KvRecord({ key, timestamp: 0 })]), 'KV_TOO_LARGE');
    nothingLeft();
  });

  it('rejects malformed arguments and records with TypeError', async () => {
    const path = join(dir, 't.sst');
    await expect(writeTable(42 as unknown as string, [])).rejects.toThrow(TypeError);
    await expect(writeTable(path, 7 as unknown as KvRecord[])).rejects.toThrow(TypeError);
    await expect(writeTable(path, [{ key: 'a' } as unknown as KvRecord])).rejects.toThrow(/key must be a Uint8Array/);
    const tomb = rec('a', 'x');
    tomb.tombstone = true;
    await expect(writeTable(path, [tomb])).rejects.toThrow(/tombstone carries no value/);
    nothingLeft();
  });

  it('rejects out-of-range options with KV_INVALID_ARGUMENT', async () => {
    const path = join(dir, 't.sst');
    await rejectsWith(writeTable(path, [], { blockBytes: 10 }), 'KV_INVALID_ARGUMENT', /blockBytes/);
    await rejectsWith(writeTable(path, [], { bloomBitsPerKey: 0 }), 'KV_INVALID_ARGUMENT', /bloomBitsPerKey/);
    await expect(writeTable(path, [], { blockBytes: '4k' as unknown as number })).rejects.toThrow(TypeError);
    nothingLeft();
  });

  it('rejects a malformed maxKeys: TypeError if not a number, KV_INVALID_ARGUMENT if not a count', async () => {
    const path = join(dir, 't.sst');
    await expect(writeTable(path, numbered(3), { maxKeys: '10' as unknown as number })).rejects.toThrow(TypeError);
    for (const maxKeys of [-1, 1.5, Number.NaN, 2 ** 53, Number.NEGATIVE_INFINITY]) {
      await rejectsWith(writeTable(path, numbered(3), { maxKeys }), 'KV_INVALID_ARGUMENT', /maxKeys/);
    }
    nothingLeft();
  });

  it('rejects one record more than maxKeys with KV_INVALID_ARGUMENT, after blocks were flushed, leaving nothing', async () => {
    await rejectsWith(
      writeTable(join(dir, 't.sst'), numbered(20_000, 40), { maxKeys: 19_999 }),
      'KV_INVALID_ARGUMENT',
      /record 19999 is past maxKeys \(19999\)/,
    );
    nothingLeft();
  });

  it('does not mutate the options object', async () => {
    const options = Object.freeze({ blockBytes: 128 });
    await writeTable(join(dir, 't.sst'), numbered(10), options);
    expect(options).toEqual({ blockBytes: 128 });
  });

  it('passes through an error thrown by the input iterator and leaves nothing on disk', async () => {
    function* failing() {
      yield rec('a');
      throw new Error('source failed');
    }
    await expect(writeTable(join(dir, 't.sst'), failing())).rejects.toThrow('source failed');
    nothingLeft();
  });

  it('replaces an existing table at the path atomically', async () => {
    const path = join(dir, 't.sst');
    await writeTable(path, numbered(10));
    await writeTable(path, numbered(3));
    expect((await Table.open(path)).info.count).toBe(3);
    expect(readdirSync(dir)).toEqual(['t.sst']);
  });
});

describe('writeTable: file-system faults', () => {
  const cases: Array<[FaultPoint, string]> = [
    ['open', 'EACCES'],
    ['write', 'ENOSPC'],
    ['fsync', 'EIO'],
    ['close', 'EIO'],
    ['rename', 'EIO'],
    ['fsyncDir', 'EIO'],
  ];
  for (const [at, code] of cases) {
    it(`${code} on ${at} is KV_IO_ERROR and leaves no file behind`, async () => {
      const fs = faultyFs(at, code);
      const err = await rejectsWith(writeTable(join(dir, 't.sst'), numbered(50), { fs }), 'KV_IO_ERROR');
      expect(err.message).toContain(code);
      expect((err.cause as NodeJS.ErrnoException).code).toBe(code);
      nothingLeft();
    });
  }

  it('ENOSPC on a later write, mid-table, is KV_IO_ERROR and leaves no file behind', async () => {
    const fs = faultyFs('write', 'ENOSPC', 3);
    await rejectsWith(writeTable(join(dir, 't.sst'), numbered(30_000, 30), { fs }), 'KV_IO_ERROR', /ENOSPC/);
    expect(fs.calls.filter((c) => c === 'write').length).toBe(3);
    nothingLeft();
  });

  it('ENOSPC on any one write (data, filter, index or footer) is KV_IO_ERROR and leaves no file behind', async () => {
    const records = numbered(20_000, 30);
    const clean = faultyFs('open', 'NONE', 99);
    await writeTable(join(dir, 'clean.sst'), records, { fs: clean });
    const writes = clean.calls.filter((c) => c === 'write').length;
    // The data goes in 256 KiB writes; the filter, the index and the footer in one each.
    expect(writes).toBeGreaterThanOrEqual(5);
    rmSync(join(dir, 'clean.sst'));
    for (let n = 1; n <= writes; n++) {
      const fs = faultyFs('write', 'ENOSPC', n);
      await rejectsWith(writeTable(join(dir, 't.sst'), records, { fs }), 'KV_IO_ERROR', /ENOSPC/);
      expect(fs.calls.filter((c) => c === 'write').length, `write ${n} of ${writes} failed`).toBe(n);
      nothingLeft();
    }
  });

  it('syncs the file before the rename and the directory after it', async () => {
    const fs = faultyFs('open', 'NONE', 99);
    await writeTable(join(dir, 't.sst'), numbered(10), { fs });
    const order = fs.calls.filter((c) => c !== 'write');
    expect(order).toEqual(['open', 'fsync', 'close', 'rename', 'fsyncDir']);
    expect(existsSync(join(dir, 't.sst'))).toBe(true);
  });

  it('Table.open of a missing file is KV_IO_ERROR naming the path', async () => {
    const err = await rejectsWith(Table.open(join(dir, 'missing.sst')), 'KV_IO_ERROR', /missing\.sst/);
    expect(err).toBeInstanceOf(KvError);
  });
});
