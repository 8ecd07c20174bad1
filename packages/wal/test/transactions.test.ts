import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KvRecord } from '@kv/record';
import { Wal } from '@kv/wal';
import { afterEach, describe, expect, it } from 'vitest';
import { expectKvError, keys, rec, SMALL, tempDir } from './helpers.js';

const open: Wal[] = [];
async function openWal(dir = tempDir(), options = {}): Promise<Wal> {
  const wal = await Wal.open(dir, { ...SMALL, ...options });
  open.push(wal);
  return wal;
}
afterEach(async () => {
  for (const w of open.splice(0)) await w.close().catch(() => {});
});

describe('WAL transactions (walrus API)', () => {
  it('commit writes every entry at once and resolves with their indices', async () => {
    const wal = await openWal();
    await wal.append(rec(1));
    const id = wal.beginTransaction();
    wal.addToTransaction(id, rec(2));
    wal.addToTransaction(id, rec(3));
    expect(wal.lastIndex).toBe(1); // nothing written before commit
    expect(await wal.commitTransaction(id)).toEqual([2, 3]);
    expect(keys(wal.readAllSegments())).toEqual(['Key01', 'Key02', 'Key03']);
  });

  it('rollback writes nothing; a finished id is KV_TX_NOT_PENDING; an unknown one KV_TX_NOT_FOUND', async () => {
    const wal = await openWal();
    const id = wal.beginTransaction();
    wal.addToTransaction(id, rec(1));
    wal.rollbackTransaction(id);
    expect(wal.lastIndex).toBe(0);
    await expectKvError(wal.commitTransaction(id), 'KV_TX_NOT_PENDING');
    await expectKvError(() => wal.addToTransaction(id, rec(2)), 'KV_TX_NOT_PENDING');
    const done = wal.beginTransaction();
    await wal.commitTransaction(done);
    await expectKvError(wal.commitTransaction(done), 'KV_TX_NOT_PENDING');
    await expectKvError(() => wal.addToTransaction('no-such-id', rec(1)), 'KV_TX_NOT_FOUND');
  });

  it('an expired transaction is aborted without any timer: KV_TX_EXPIRED, nothing written', async () => {
    const wal = await openWal();
    const id = wal.beginTransaction({ timeoutMs: 20 });
    wal.addToTransaction(id, rec(1));
    await new Promise((r) => setTimeout(r, 40));
    expect(wal.stats().pendingTransactions).toBe(0); // swept by the next call
    await expectKvError(wal.commitTransaction(id), 'KV_TX_EXPIRED');
    expect(wal.lastIndex).toBe(0);
  });

  it('a size cap is KV_TOO_LARGE and the transaction stays usable', async () => {
    const wal = await openWal();
    const id = wal.beginTransaction({ maxEntries: 2 });
    wal.addToTransaction(id, rec(1));
    wal.addToTransaction(id, rec(2));
    await expectKvError(() => wal.addToTransaction(id, rec(3)), 'KV_TOO_LARGE');
    const bytes = wal.beginTransaction({ maxBytes: 100 });
    await expectKvError(() => wal.addToTransaction(bytes, rec(1, 'v'.repeat(200))), 'KV_TOO_LARGE');
    expect(await wal.commitTransaction(id)).toEqual([1, 2]);
  });

  it('bad arguments are TypeErrors or KV_INVALID_ARGUMENT', async () => {
    const wal = await openWal();
    expect(() => wal.beginTransaction({ timeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: 'KV_INVALID_ARGUMENT' }),
    );
    expect(() => wal.beginTransaction({ timeoutMs: '5' as unknown as number })).toThrow(TypeError);
    const id = wal.beginTransaction();
    expect(() => wal.addToTransaction(id, { key: 'x' } as unknown as KvRecord)).toThrow(TypeError);
    expect(() => wal.addToTransaction(5 as unknown as string, rec(1))).toThrow(TypeError);
  });

  it('close rolls back pending transactions', async () => {
    const dir = tempDir();
    const wal = await Wal.open(dir, SMALL);
    const id = wal.beginTransaction();
    wal.addToTransaction(id, rec(1));
    await wal.close();
    const again = await openWal(dir);
    expect(again.lastIndex).toBe(0);
  });

  it('SIGKILL mid-stream: every committed transaction is there whole, no partial one ever', async () => {
    const dir = tempDir();
    const committed = new Map<string, number>();
    for (let run = 0; run < 6; run++) {
      const log = path.join(tempDir('kv-acks-'), 'acks.log');
      const child = spawn(
        process.execPath,
        [path.join(import.meta.dirname, 'fixtures', 'tx-child.mjs'), dir, String(run)],
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KV_ACK_LOG: log } },
      );
      let ready = '';
      child.stdout.on('data', (d: Buffer) => (ready += d.toString()));
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      while (!ready.startsWith('ready\n')) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50 + run * 40));
      child.kill('SIGKILL');
      await exited;
      const out = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
      const lines = out.split('\n');
      if (!out.endsWith('\n')) lines.pop();
      for (const l of lines) if (l.startsWith('C ')) committed.set(l.split(' ')[1] as string, Number(l.split(' ')[2]));
      const wal = await Wal.open(dir, SMALL);
      const groups = new Map<string, { size: number; count: number }>();
      for (const { record } of wal.entries()) {
        const [name, part] = record.keyString().split(':') as [string, string];
        const g = groups.get(name) ?? { size: Number(part.split('of')[1]), count: 0 };
        g.count++;
        groups.set(name, g);
      }
      for (const [name, g] of groups) expect(g.count, `transaction ${name} is partial`).toBe(g.size);
      for (const [name, n] of committed) expect(groups.get(name)?.count, `committed ${name}`).toBe(n);
      await wal.close();
    }
    expect(committed.size).toBeGreaterThan(10);
  }, 60_000);
});

describe('tail', () => {
  it('yields existing entries, then follows appends live across segment rotation', async () => {
    const wal = await openWal(tempDir(), { maxRecordsPerSegment: 2 });
    await wal.append(rec(1));
    const seen: number[] = [];
    const reader = (async () => {
      for await (const { index, record } of wal.tail(1)) {
        seen.push(index);
        expect(record.keyString()).toBe(`Key0${index}`);
        if (index === 5) return;
      }
    })();
    for (let i = 2; i <= 5; i++) await wal.append(rec(i));
    await reader;
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(wal.segmentCount).toBe(3);
  });

  it('ends when the log closes', async () => {
    const wal = await Wal.open(tempDir(), SMALL);
    const done = (async () => {
      let n = 0;
      for await (const _ of wal.tail()) n++;
      return n;
    })();
    await wal.append(rec(1));
    await new Promise((r) => setTimeout(r, 10));
    await wal.close();
    expect(await done).toBe(1);
  });

  it('throws RangeError when the entries it needs were deleted', async () => {
    const wal = await openWal(tempDir(), { maxRecordsPerSegment: 1 });
    for (let i = 1; i <= 3; i++) await wal.append(rec(i));
    await wal.truncateFront(3);
    await expect(wal.tail(1).next()).rejects.toThrow(RangeError);
  });

  it("under sync 'none' entries appear once written", async () => {
    const wal = await openWal(tempDir(), { sync: 'none' });
    await wal.append(rec(1));
    const it = wal.tail(1);
    expect((await it.next()).value?.index).toBe(1);
    await it.return(undefined);
  });
});
