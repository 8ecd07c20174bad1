import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { describe, expect, it } from 'vitest';
import { entries, expectKvError, TINY, tempDir } from './helpers.js';

/** The same writes into a store: overwrites, deletes and a batch across several flushes. */
async function fill(db: KvStore): Promise<void> {
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 60; i++) await db.put(`k${String((i * 7 + round) % 90).padStart(3, '0')}`, `r${round}-${i}`);
    for (let i = round; i < 90; i += 9) await db.delete(`k${String(i).padStart(3, '0')}`);
    await db.batch([
      { type: 'put', key: `b${round}`, value: 'x'.repeat(100) },
      { type: 'del', key: `k${String(round).padStart(3, '0')}` },
    ]);
    await db.flush();
  }
}

const text = (pairs: [string, string][]) => pairs.map(([k, v]) => `${k}=${v}`);

describe('compactions on a worker thread', () => {
  it('give the same data as compactions on the event loop', async () => {
    const results: string[][] = [];
    for (const compactionThread of [true, false]) {
      const db = await KvStore.open(tempDir(), { ...TINY, compactionThread, autoCompact: false });
      await fill(db);
      const before = text(entries(db));
      expect(db.stats().tables).toBeGreaterThan(3);
      await db.compact();
      expect(db.stats().tables).toBe(1);
      expect(text(entries(db))).toEqual(before);
      results.push(before);
      await db.close();
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('a corrupt input found by the thread is KV_CORRUPTION naming the file, and the store stays failed', async () => {
    const dir = tempDir();
    const db = await KvStore.open(dir, { ...TINY, autoCompact: false });
    await fill(db);
    await db.close();
    const tables = fs.readdirSync(path.join(dir, 'tables')).filter((f) => f.endsWith('.sst'));
    const victim = path.join(dir, 'tables', tables[0] as string);
    const bytes = fs.readFileSync(victim);
    bytes[12] = (bytes[12] as number) ^ 0x40; // inside the first entry of the first data block
    fs.writeFileSync(victim, bytes);
    const again = await KvStore.open(dir, { ...TINY, autoCompact: false }); // data blocks are checked when read
    const err = await expectKvError(again.compact(), 'KV_CORRUPTION');
    expect(err.message).toContain(path.basename(victim));
    await expectKvError(again.put('after', 'x'), 'KV_CORRUPTION');
    await again.close().catch(() => {});
    expect(fs.readdirSync(path.join(dir, 'tables')).filter((f) => f.endsWith('.sst'))).toEqual(tables);
  });

  it('an idle compaction thread does not keep the process alive', () => {
    const dir = tempDir();
    const engine = new URL('../dist/index.js', import.meta.url).href;
    const script = `
      const { KvStore } = await import(${JSON.stringify(engine)});
      const db = await KvStore.open(${JSON.stringify(dir)}, ${JSON.stringify({ ...TINY, autoCompact: false })});
      for (let i = 0; i < 200; i++) await db.put('k' + i, 'v'.repeat(50));
      await db.compact();
      console.log('compacted', db.stats().tables);
      // no close: the process must still end once nothing else is pending`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('compacted 1');
    expect(r.status).toBe(0);
  });
});
