import { Memtable, MEMTABLE_ENTRY_OVERHEAD_BYTES } from '@kv/memtable';
import { compareBytes, inRange, type KeyRange, KvRecord } from '@kv/record';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * A small alphabet of keys, so that overwrites and deletes of existing keys are frequent,
 * with the edge bytes 0x00 and 0xff and prefixes of one another.
 */
const KEYS = [
  [],
  [0x00],
  [0x00, 0x00],
  [0x01],
  [0x61],
  [0x61, 0x00],
  [0x61, 0xff],
  [0x62],
  [0x7f],
  [0x80],
  [0xff],
  [0xff, 0xff],
].map((k) => Uint8Array.from(k));
const keyArb = fc.constantFrom(...KEYS);
const boundArb = fc.option(fc.oneof(keyArb, fc.uint8Array({ maxLength: 3 })), { nil: undefined, freq: 2 });
const rangeArb: fc.Arbitrary<KeyRange> = fc.record({
  gt: boundArb,
  gte: boundArb,
  lt: boundArb,
  lte: boundArb,
  reverse: fc.boolean(),
});

type Op =
  | { kind: 'put'; key: Uint8Array; value: Uint8Array; range: KeyRange }
  | { kind: 'del'; key: Uint8Array; range: KeyRange }
  /** Re-puts the record of an earlier step with its original seq, as a WAL replay would. */
  | { kind: 'replay'; step: number; range: KeyRange };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      key: keyArb,
      value: fc.uint8Array({ maxLength: 8 }),
      range: rangeArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: keyArb, range: rangeArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), step: fc.nat(), range: rangeArb }) },
);

const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');

/** The reference: newest record per key by seq, sorted with compareBytes when read. */
class Model {
  readonly byKey = new Map<string, KvRecord>();

  /** Every accepted version's share, replaced ones included. */
  storedBytes = 0;

  put(rec: KvRecord): void {
    const old = this.byKey.get(hex(rec.key));
    if (old === undefined || rec.seq > old.seq) {
      this.byKey.set(hex(rec.key), rec);
      this.storedBytes += rec.key.length + rec.value.length + MEMTABLE_ENTRY_OVERHEAD_BYTES;
    }
  }

  entries(range: KeyRange): KvRecord[] {
    const sorted = [...this.byKey.values()]
      .filter((r) => inRange(r.key, range))
      .sort((x, y) => compareBytes(x.key, y.key));
    return range.reverse ? sorted.reverse() : sorted;
  }

  get byteSize(): number {
    let total = 0;
    for (const r of this.byKey.values()) total += r.key.length + r.value.length + MEMTABLE_ENTRY_OVERHEAD_BYTES;
    return total;
  }

  seqBounds(): [number, number] {
    const seqs = [...this.byKey.values()].map((r) => r.seq);
    return seqs.length === 0 ? [0, 0] : [Math.min(...seqs), Math.max(...seqs)];
  }
}

function checkAgainstModel(m: Memtable, model: Model, range: KeyRange): void {
  for (const key of KEYS) expect(m.get(key)).toEqual(model.byKey.get(hex(key)));
  expect(m.count).toBe(model.byKey.size);
  expect(m.byteSize).toBe(model.byteSize);
  expect(m.storedBytes).toBe(model.storedBytes);
  expect([m.minSeq, m.maxSeq]).toEqual(model.seqBounds());
  expect([...m.entries()]).toEqual(model.entries({}));
  expect([...m.entries({ reverse: true })]).toEqual(model.entries({ reverse: true }));
  expect([...m.entries(range)]).toEqual(model.entries(range));
}

describe('Memtable against a model', () => {
  it('matches a sorted map after every step of random puts, deletes and replays', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const m = new Memtable();
        const model = new Model();
        const applied: KvRecord[] = [];
        let seq = 0;
        for (const op of ops) {
          let rec: KvRecord;
          if (op.kind === 'replay') {
            if (applied.length === 0) continue;
            // A fresh object with the same seq: a replayed WAL entry is decoded anew.
            const original = applied[op.step % applied.length]!;
            rec = new KvRecord({ ...original, value: original.value.slice() });
          } else {
            seq++;
            rec =
              op.kind === 'put'
                ? new KvRecord({ key: op.key, value: op.value, seq })
                : new KvRecord({ key: op.key, tombstone: true, seq });
            applied.push(rec);
          }
          m.put(rec);
          model.put(rec);
          checkAgainstModel(m, model, op.range);
        }
        // Frozen, it is read through its sorted ids instead of the tree: the same answers.
        m.freeze();
        for (const op of ops) if (op.kind !== 'replay') checkAgainstModel(m, model, op.range);
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot keeps matching the model of its time while the memtable moves on', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 30 }),
        fc.array(opArb, { maxLength: 30 }),
        rangeArb,
        (before, after, range) => {
          const m = new Memtable();
          const model = new Model();
          let seq = 0;
          const apply = (op: Op, target: Model | undefined) => {
            if (op.kind === 'replay') return;
            seq++;
            const rec =
              op.kind === 'put'
                ? new KvRecord({ key: op.key, value: op.value, seq })
                : new KvRecord({ key: op.key, tombstone: true, seq });
            m.put(rec);
            target?.put(rec);
          };
          for (const op of before) apply(op, model);
          const snap = m.snapshot();
          for (const op of after) apply(op, undefined);
          for (const key of KEYS) expect(snap.get(key)).toEqual(model.byKey.get(hex(key)));
          expect(snap.count).toBe(model.byKey.size);
          expect([...snap.entries(range)]).toEqual(model.entries(range));
        },
      ),
      { numRuns: 200 },
    );
  });
});
