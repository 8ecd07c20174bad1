import { KvStore } from '@kv/engine';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Transaction } from '../src/transaction.js';
import { storeDir } from './helpers.js';

const enc = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));
const show = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('Transaction (the buffer behind tx begin)', () => {
  let db: KvStore | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  it('entries() equals the store with the writes applied, for any range and direction', async () => {
    const store = await KvStore.open(storeDir(), { sync: 'none' });
    db = store;
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g');
    const write = fc.record({ key, value: fc.option(fc.constantFrom('1', '2', '3'), { nil: undefined }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(write, { maxLength: 6 }),
        fc.array(write, { maxLength: 6 }),
        fc.option(key, { nil: undefined }),
        fc.option(key, { nil: undefined }),
        fc.boolean(),
        async (stored, buffered, from, to, reverse) => {
          await store.batch([...store.iterator()].map(([k]) => ({ type: 'del' as const, key: k })));
          const model = new Map<string, string>();
          for (const w of stored) {
            if (w.value === undefined) await store.delete(w.key);
            else await store.put(w.key, w.value);
            if (w.value === undefined) model.delete(w.key);
            else model.set(w.key, w.value);
          }
          const tx = new Transaction();
          for (const w of buffered) {
            if (w.value === undefined) tx.del(enc(w.key));
            else tx.put(enc(w.key), enc(w.value));
            if (w.value === undefined) model.delete(w.key);
            else model.set(w.key, w.value);
          }
          const range = {
            ...(from === undefined ? {} : { gte: enc(from) }),
            ...(to === undefined ? {} : { lt: enc(to) }),
          };
          const expected = [...model]
            .filter(([k]) => (from === undefined || k >= from) && (to === undefined || k < to))
            .sort(([a], [b]) => (a < b ? -1 : 1));
          if (reverse) expected.reverse();
          const got = [...tx.entries(store, range, reverse)].map(([k, v]) => [show(k), show(v)]);
          expect(got).toEqual(expected);
          for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) expect(text(tx.get(store, enc(k)))).toBe(model.get(k));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('commit refuses when a value get read has changed since, and applies nothing', async () => {
    const store = await KvStore.open(storeDir());
    db = store;
    await store.put('a', '1');
    const tx = new Transaction();
    expect(text(tx.get(store, enc('a')))).toBe('1');
    expect(tx.get(store, enc('missing'))).toBeUndefined();
    tx.put(enc('b'), enc('2'));
    await store.put('a', 'changed behind its back');
    await expect(store.transaction((t) => tx.applyTo(t, show))).rejects.toThrow(
      'a changed after this transaction read it; nothing was applied (tx abort, then start again)',
    );
    expect(store.get('b')).toBeUndefined();
  });

  it('commit goes ahead when what get read still holds, a missing key included', async () => {
    const store = await KvStore.open(storeDir());
    db = store;
    await store.put('a', '1');
    const tx = new Transaction();
    tx.get(store, enc('a'));
    tx.get(store, enc('missing'));
    tx.put(enc('missing'), enc('now here'));
    await store.transaction((t) => tx.applyTo(t, show));
    expect(text(store.get('missing'))).toBe('now here');
  });
});
