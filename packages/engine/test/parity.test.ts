import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { KvStore } from '@kv/engine';
import { afterEach, describe, expect, it } from 'vitest';
import { closeOpenStores, expectKvError, openStore, tempDir, text, TINY } from './helpers.js';

afterEach(closeOpenStores);

const total = (db: KvStore) =>
  Array.from({ length: 10 }, (_, i) => Number(text(db.get(`account:${i}`)))).reduce((a, b) => a + b, 0);

describe('db.transaction', () => {
  it('reads its own writes and applies them atomically when the callback resolves', async () => {
    const db = await openStore();
    await db.put('a', '1');
    const result = await db.transaction((tx) => {
      tx.put('a', '2');
      tx.del('b');
      tx.put('c', '3');
      expect(text(tx.get('a'))).toBe('2');
      expect(text(db.get('a'))).toBe('1'); // not visible outside until commit
      return 'done';
    });
    expect(result).toBe('done');
    expect([text(db.get('a')), text(db.get('c'))]).toEqual(['2', '3']);
  });

  it('a callback that throws writes nothing and rethrows', async () => {
    const db = await openStore();
    await expect(
      db.transaction((tx) => {
        tx.put('a', '1');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(db.get('a')).toBeUndefined();
    expect(db.stats().wal.lastIndex).toBe(0);
  });

  it('writing through the store inside a transaction is refused (it would deadlock)', async () => {
    const db = await openStore();
    await expectKvError(
      db.transaction(async () => {
        await db.put('a', '1');
      }),
      'KV_INVALID_ARGUMENT',
    );
    await expectKvError(
      db.transaction(() => db.transaction(() => 1)),
      'KV_INVALID_ARGUMENT',
    );
  });

  it('the money-transfer example: concurrent transfers never change the total', async () => {
    const db = await openStore();
    await db.batch(
      Array.from({ length: 10 }, (_, i) => ({ type: 'put' as const, key: `account:${i}`, value: '1000' })),
    );
    const bal = (tx: { get(k: string): Uint8Array | undefined }, i: number) => Number(text(tx.get(`account:${i}`)));
    await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        db.transaction(async (tx) => {
          const from = n % 10;
          const to = (n * 7 + 3) % 10;
          const a = bal(tx, from);
          await new Promise((r) => setImmediate(r));
          if (from === to || a < 10) return;
          tx.put(`account:${from}`, String(a - 10));
          tx.put(`account:${to}`, String(bal(tx, to) + 10));
        }),
      ),
    );
    expect(total(db)).toBe(10_000);
  });

  it('the money-transfer example under SIGKILL: after every crash the total is unchanged', async () => {
    const dir = tempDir();
    for (let run = 0; run < 5; run++) {
      const child = spawn(
        process.execPath,
        [path.join(import.meta.dirname, 'fixtures', 'transfer-child.mjs'), dir, String(run + 1)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 100 + run * 60));
      child.kill('SIGKILL');
      await exited;
      const db = await KvStore.open(dir, TINY);
      expect(total(db), `run ${run}`).toBe(10_000);
      expect(db.stats().lastSeq).toBeGreaterThan(10);
      await db.close();
    }
  }, 60_000);
});

describe('sketches', () => {
  it('HyperLogLog counts distinct items within 3 standard errors, and survives reopen', async () => {
    const dir = tempDir();
    const db = await KvStore.open(dir, TINY);
    for (const n of [10, 1000, 20_000]) {
      const key = `visitors:${n}`;
      for (let i = 0; i < n; i += 500) {
        await db.hllAdd(
          key,
          Array.from({ length: Math.min(500, n - i) }, (_, j) => `user-${i + j}`),
        );
      }
      await db.hllAdd(key, ['user-0', 'user-1']); // repeats do not count
      const estimate = db.hllCount(key);
      expect(Math.abs(estimate - n) / n, `n=${n}, estimate ${estimate}`).toBeLessThan(3 * 0.01625);
    }
    await db.close();
    const again = await openStore(dir);
    expect(Math.abs(again.hllCount('visitors:1000') - 1000)).toBeLessThan(50);
    expect(again.hllCount('never')).toBe(0);
  });

  it('Count-Min Sketch never under-counts and over-counts by at most its error bound', async () => {
    const db = await openStore();
    const truth = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const item = `word${i % 37}`;
      const n = 1 + (i % 5);
      truth.set(item, (truth.get(item) ?? 0) + n);
      await db.cmsAdd('words', item, n);
    }
    const sum = [...truth.values()].reduce((a, b) => a + b, 0);
    for (const [item, n] of truth) {
      const est = db.cmsQuery('words', item);
      expect(est).toBeGreaterThanOrEqual(n);
      expect(est - n).toBeLessThanOrEqual(Math.ceil(0.01 * sum) + 1);
    }
    expect(db.cmsQuery('words', 'absent')).toBe(0);
  });

  it('a sketch command on a key of another type is KV_INVALID_ARGUMENT and changes nothing', async () => {
    const db = await openStore();
    await db.put('plain', 'value');
    await expectKvError(db.hllAdd('plain', ['x']), 'KV_INVALID_ARGUMENT');
    await db.hllAdd('h', ['x']);
    await expectKvError(db.cmsAdd('h', 'x'), 'KV_INVALID_ARGUMENT');
    expect(() => db.cmsQuery('h', 'x')).toThrow(expect.objectContaining({ code: 'KV_INVALID_ARGUMENT' }));
    expect(text(db.get('plain'))).toBe('value');
    await expect(db.hllAdd('h', 'not-an-array' as unknown as string[])).rejects.toThrow(TypeError);
    await expectKvError(db.cmsAdd('c', 'x', 0), 'KV_INVALID_ARGUMENT');
  });
});

describe('rate limiting per client', () => {
  it('over the limit is KV_RATE_LIMITED (not "not found"); tokens refill', async () => {
    const db = await openStore(tempDir(), { rateLimit: { capacity: 3, refillPerSecond: 50 } });
    const alice = db.client('alice');
    await alice.put('k', 'v');
    expect(text(alice.get('k'))).toBe('v');
    alice.get('k');
    const err = await expectKvError(() => alice.get('k'), 'KV_RATE_LIMITED');
    expect(err.message).toMatch(/alice.*retry in \d+ ms/);
    expect(text(db.client('bob').get('k'))).toBe('v'); // buckets are per client
    await new Promise((r) => setTimeout(r, 60));
    expect(text(alice.get('k'))).toBe('v');
  });

  it('a batch spends one token per operation', async () => {
    const db = await openStore(tempDir(), { rateLimit: { capacity: 2, refillPerSecond: 0.001 } });
    await expectKvError(
      db.client('c').batch([
        { type: 'put', key: 'a', value: '1' },
        { type: 'put', key: 'b', value: '2' },
        { type: 'put', key: 'c', value: '3' },
      ]),
      'KV_RATE_LIMITED',
    );
    expect(db.get('a')).toBeUndefined();
  });

  it('bad limits are rejected at open', async () => {
    await expectKvError(
      KvStore.open(tempDir(), { rateLimit: { capacity: 0, refillPerSecond: 1 } }),
      'KV_INVALID_ARGUMENT',
    );
  });
});

describe('changes feed (db.changes)', () => {
  it('yields writes after `since` in order, then follows new ones live', async () => {
    const db = await openStore(tempDir(), { memtableBytes: 1 << 20 });
    await db.put('a', '1');
    await db.put('b', '2');
    const seen: string[] = [];
    const reader = (async () => {
      for await (const c of db.changes({ since: 1 })) {
        seen.push(`${c.seq}:${c.type}:${text(c.key)}${c.value ? `=${text(c.value)}` : ''}`);
        if (c.seq === 4) return;
      }
    })();
    await db.delete('a');
    await db.put('c', '3');
    await reader;
    expect(seen).toEqual(['2:put:b=2', '3:del:a', '4:put:c=3']);
  });

  it('the event-sourcing example: a projection rebuilt by replaying events equals the live one', async () => {
    const dir = tempDir();
    const db = await KvStore.open(dir, { ...TINY, memtableBytes: 1 << 20 });
    const live = new Map<string, number>();
    const apply = (p: Map<string, number>, event: { account: string; delta: number }) =>
      p.set(event.account, (p.get(event.account) ?? 0) + event.delta);
    for (let i = 0; i < 50; i++) {
      const event = { account: `acct${i % 4}`, delta: (i % 7) - 3 };
      await db.put(`event:${String(i).padStart(6, '0')}`, JSON.stringify(event));
      apply(live, event);
    }
    await db.close();
    const again = await openStore(dir, { memtableBytes: 1 << 20 });
    const rebuilt = new Map<string, number>();
    const stream = again.changes({ since: 0 });
    for (let n = 0; n < 50; n++) {
      const { value } = await stream.next();
      apply(rebuilt, JSON.parse(text(value?.value) as string));
    }
    await stream.return(undefined);
    expect(rebuilt).toEqual(live);
  });

  it('asking for changes the WAL no longer holds is a RangeError, not a silent gap', async () => {
    const db = await openStore();
    for (let i = 0; i < 400; i++) await db.put(`k${i}`, 'x'.repeat(100));
    await db.flush();
    expect(db.stats().flushedSeq).toBeGreaterThan(10);
    await expect(db.changes({ since: 1 }).next()).rejects.toThrow(RangeError);
  });
});
