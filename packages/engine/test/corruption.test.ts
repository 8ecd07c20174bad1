import * as fs from 'node:fs';
import * as path from 'node:path';
import { type EngineFs, KvStore, realEngineFs } from '@kv/engine';
import { nodeTableFs, type TableFs } from '@kv/sstable';
import { KvError } from '@kv/record';
import { describe, expect, it } from 'vitest';
import { entries, expectKvError, TINY, tempDir, text } from './helpers.js';

async function storeWithTables(): Promise<string> {
  const dir = tempDir();
  const db = await KvStore.open(dir, TINY);
  for (let i = 0; i < 300; i++) await db.put(`key${String(i).padStart(3, '0')}`, `value-${i}-${'p'.repeat(20)}`);
  await db.flush();
  await db.close();
  return dir;
}

const tableFiles = (dir: string) =>
  fs
    .readdirSync(path.join(dir, 'tables'))
    .filter((f) => f.endsWith('.sst'))
    .map((f) => path.join(dir, 'tables', f));

function flip(file: string, at: number): void {
  const bytes = fs.readFileSync(file);
  bytes[at] = (bytes[at] as number) ^ 0x10;
  fs.writeFileSync(file, bytes);
}

/** Opens the store and reads everything; returns the error, or null when all reads succeed. */
async function openAndReadAll(dir: string): Promise<unknown> {
  let db: KvStore | undefined;
  try {
    db = await KvStore.open(dir, TINY);
    for (let i = 0; i < 300; i++) db.get(`key${String(i).padStart(3, '0')}`);
    entries(db);
    return null;
  } catch (err) {
    return err;
  } finally {
    await db?.close();
  }
}

describe('damaged tables and manifest', () => {
  it('a bit flip anywhere in a table is KV_CORRUPTION naming the file, at open or on read, never wrong data', async () => {
    const dir = await storeWithTables();
    const [file] = tableFiles(dir);
    const original = fs.readFileSync(file as string);
    const step = Math.max(1, Math.floor(original.length / 150));
    let detected = 0;
    for (let at = 0; at < original.length; at += step) {
      fs.writeFileSync(file as string, original);
      flip(file as string, at);
      const err = await openAndReadAll(dir);
      if (err === null) continue; // a flip in bytes no reader trusts (none expected, but never wrong data)
      expect(err, `flip at ${at}`).toMatchObject({ code: 'KV_CORRUPTION' });
      expect((err as Error).message).toContain(path.basename(file as string));
      detected++;
    }
    expect(detected).toBeGreaterThan(100);
    fs.writeFileSync(file as string, original);
    expect(await openAndReadAll(dir)).toBeNull();
  });

  it('a truncated table is KV_CORRUPTION naming the file', async () => {
    const dir = await storeWithTables();
    const [file] = tableFiles(dir);
    fs.truncateSync(file as string, Math.floor(fs.statSync(file as string).size / 2));
    const err = await expectKvError(KvStore.open(dir, TINY), 'KV_CORRUPTION');
    expect(err.message).toContain(path.basename(file as string));
  });

  it('a missing table named by the manifest is an error, not silently missing data', async () => {
    const dir = await storeWithTables();
    fs.unlinkSync(tableFiles(dir)[0] as string);
    await expect(KvStore.open(dir, TINY)).rejects.toMatchObject({
      code: expect.stringMatching(/KV_IO_ERROR|KV_CORRUPTION/),
    });
  });

  it('a damaged MANIFEST is KV_CORRUPTION naming it', async () => {
    const dir = await storeWithTables();
    const manifest = path.join(dir, 'MANIFEST');
    const original = fs.readFileSync(manifest);
    for (const at of [0, 5, 14, 30, original.length - 2]) {
      fs.writeFileSync(manifest, original);
      flip(manifest, at);
      const err = await expectKvError(KvStore.open(dir, TINY), 'KV_CORRUPTION');
      expect(err.message).toContain('MANIFEST');
    }
    fs.writeFileSync(manifest, original.subarray(0, 20));
    await expectKvError(KvStore.open(dir, TINY), 'KV_CORRUPTION');
  });

  it('a table file no manifest names (a flush cut short) is removed at open', async () => {
    const dir = await storeWithTables();
    const orphan = path.join(dir, 'tables', '000000000999.sst');
    fs.writeFileSync(orphan, 'half a table');
    fs.writeFileSync(`${orphan}.tmp`, 'half a table');
    const db = await KvStore.open(dir, TINY);
    expect(db.stats().recovery.removedTables.sort()).toEqual(['000000000999.sst', '000000000999.sst.tmp']);
    expect(fs.existsSync(orphan)).toBe(false);
    expect(text(db.get('key007'))).toBe(`value-7-${'p'.repeat(20)}`);
    await db.close();
  });

  it('a torn WAL tail is recovered: the store opens with every fully written entry', async () => {
    const dir = tempDir();
    const db = await KvStore.open(dir, { ...TINY, memtableBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) await db.put(`k${i}`, `v${i}`);
    await db.close();
    const wal = path.join(dir, 'wal');
    const seg = path.join(wal, fs.readdirSync(wal).filter((f) => f.endsWith('.log'))[0] as string);
    const bytes = fs.readFileSync(seg);
    let end = bytes.length;
    while (bytes[end - 1] === 0) end--;
    bytes.fill(0xab, end - 5, end + 40); // garble the last frame
    fs.writeFileSync(seg, bytes);
    const again = await KvStore.open(dir, TINY);
    expect(again.stats().recovery.wal.tornTail).not.toBeNull();
    expect(entries(again).map(([k]) => k)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8']);
    await again.close();
  });
});

describe('injected I/O errors', () => {
  it('EIO writing the manifest during a flush is KV_IO_ERROR; later writes are refused; reopen is clean', async () => {
    const dir = tempDir();
    let failing = false;
    const faulty: EngineFs = {
      ...realEngineFs,
      async writeFileSynced(p, data) {
        if (failing) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
        return realEngineFs.writeFileSynced(p, data);
      },
    };
    const db = await KvStore.open(dir, { ...TINY, fs: faulty });
    await db.put('before', '1');
    failing = true;
    await expectKvError(db.flush(), 'KV_IO_ERROR');
    await expectKvError(db.put('after', '2'), 'KV_IO_ERROR');
    expect(db.stats().failed).toMatch(/EIO/);
    await db.close();
    const again = await KvStore.open(dir, TINY);
    expect(text(again.get('before'))).toBe('1');
    expect(again.get('after')).toBeUndefined();
    await again.close();
  });

  it('a flush failing with any other code fails the store instead of being retried forever', async () => {
    const dir = tempDir();
    let failing = false;
    const faulty: TableFs = {
      ...nodeTableFs,
      async open(p, mode) {
        if (failing && mode === 'write') throw new KvError('KV_TOO_LARGE', 'injected: the table would be too large');
        return nodeTableFs.open(p, mode);
      },
    };
    const db = await KvStore.open(dir, { ...TINY, tableFs: faulty });
    await db.put('before', '1');
    failing = true;
    await expectKvError(db.flush(), 'KV_TOO_LARGE');
    await expectKvError(db.put('after', '2'), 'KV_TOO_LARGE');
    expect(db.stats().failed).toMatch(/too large/);
    await db.close();
    const again = await KvStore.open(dir, TINY);
    expect(text(again.get('before'))).toBe('1');
    await again.close();
  });

  it('ENOSPC writing a table is KV_IO_ERROR and leaves no table behind', async () => {
    const dir = tempDir();
    let failing = false;
    const faulty: TableFs = {
      ...nodeTableFs,
      async open(p, mode) {
        const file = await nodeTableFs.open(p, mode);
        if (!failing || mode !== 'write') return file;
        return {
          ...file,
          write: async () => {
            throw Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' });
          },
          fsync: () => file.fsync(),
          stat: () => file.stat(),
          map: (n: number) => file.map(n),
          close: () => file.close(),
        };
      },
    };
    const db = await KvStore.open(dir, { ...TINY, tableFs: faulty });
    for (let i = 0; i < 20; i++) await db.put(`k${i}`, 'v');
    failing = true;
    await expectKvError(db.flush(), 'KV_IO_ERROR');
    await expectKvError(db.put('x', 'y'), 'KV_IO_ERROR');
    await db.close();
    expect(tableFiles(dir)).toEqual([]);
    const again = await KvStore.open(dir, TINY);
    expect(entries(again).length).toBe(20);
    await again.close();
  });
});
