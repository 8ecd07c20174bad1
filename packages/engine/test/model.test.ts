import { KvStore } from '@kv/engine';
import { compareBytes } from '@kv/record';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TINY, tempDir } from './helpers.js';

type Op =
  | { op: 'put'; key: string; value: string }
  | { op: 'del'; key: string }
  | { op: 'batch'; items: ({ type: 'put'; key: string; value: string } | { type: 'del'; key: string })[] }
  | { op: 'get'; key: string }
  | { op: 'scan'; from?: string | undefined; to?: string | undefined; reverse: boolean; limit?: number | undefined }
  | { op: 'flush' }
  | { op: 'compact' }
  | { op: 'reopen' };

const key = fc.constantFrom(...'abcdefghij'.split('').flatMap((c) => [c, `${c}${c}`, `${c}\u00ff`, `${c}\u0000`]));
const value = fc.string({ maxLength: 120 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('put' as const), key, value }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('del' as const), key }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('batch' as const),
      items: fc.array(
        fc.oneof(
          fc.record({ type: fc.constant('put' as const), key, value }),
          fc.record({ type: fc.constant('del' as const), key }),
        ),
        { maxLength: 6 },
      ),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('scan' as const),
      from: fc.option(key, { nil: undefined }),
      to: fc.option(key, { nil: undefined }),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat(12), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

const enc = (s: string) => Buffer.from(s, 'utf8');
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));

function modelScan(model: Map<string, string>, op: Extract<Op, { op: 'scan' }>): [string, string][] {
  let rows = [...model.entries()].sort(([a], [b]) => compareBytes(enc(a), enc(b)));
  if (op.from !== undefined) rows = rows.filter(([k]) => compareBytes(enc(k), enc(op.from as string)) >= 0);
  if (op.to !== undefined) rows = rows.filter(([k]) => compareBytes(enc(k), enc(op.to as string)) < 0);
  if (op.reverse) rows.reverse();
  return op.limit === undefined ? rows : rows.slice(0, op.limit);
}

describe('model-based: the store agrees with a Map after every step', () => {
  it('random puts, deletes, batches, gets, scans, flushes, compactions and reopens', async () => {
    await fc.assert(
      // `split`: compaction output cut into tables of about 1 KiB, so runs of several tables.
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 80 }), fc.boolean(), async (ops, split) => {
        const dir = tempDir();
        const options = {
          ...TINY,
          memtableBytes: 1024 + Math.floor(ops.length * 10),
          ...(split ? { tableBytes: 1024 } : {}),
        };
        let db = await KvStore.open(dir, options);
        const model = new Map<string, string>();
        try {
          for (const op of ops) {
            switch (op.op) {
              case 'put':
                await db.put(op.key, op.value);
                model.set(op.key, op.value);
                break;
              case 'del':
                await db.delete(op.key);
                model.delete(op.key);
                break;
              case 'batch':
                await db.batch(op.items);
                for (const it of op.items) {
                  if (it.type === 'put') model.set(it.key, it.value);
                  else model.delete(it.key);
                }
                break;
              case 'get':
                expect(dec(db.get(op.key))).toBe(model.get(op.key));
                break;
              case 'scan': {
                const got = [...db.iterator({ gte: op.from, lt: op.to, reverse: op.reverse, limit: op.limit })].map(
                  ([k, v]) => [dec(k), dec(v)],
                );
                expect(got).toEqual(modelScan(model, op));
                break;
              }
              case 'flush':
                await db.flush();
                break;
              case 'compact':
                await db.compact();
                break;
              case 'reopen':
                await db.close();
                db = await KvStore.open(dir, options);
                break;
            }
          }
          const all = [...db.iterator()].map(([k, v]) => [dec(k), dec(v)]);
          expect(all).toEqual(modelScan(model, { op: 'scan', reverse: false }));
          for (const [k, v] of model) expect(dec(db.get(k))).toBe(v);
        } finally {
          await db.close();
        }
      }),
      { numRuns: Number(process.env.KV_MODEL_RUNS ?? 40) },
    );
  }, 120_000);
});
