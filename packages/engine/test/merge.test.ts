import { compareBytes, KvRecord } from '@kv/record';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeNewest } from '../src/merge.js';

/** One source: distinct keys in order (descending when reverse), each version with its seq. */
function source(versions: { key: string; seq: number }[], reverse: boolean): KvRecord[] {
  const byKey = new Map<string, KvRecord>();
  for (const v of versions) {
    byKey.set(
      v.key,
      v.seq % 7 === 0
        ? new KvRecord({ key: v.key, seq: v.seq, tombstone: true })
        : new KvRecord({ key: v.key, value: `${v.key}@${v.seq}`, seq: v.seq }),
    );
  }
  const recs = [...byKey.values()].sort((a, b) => compareBytes(a.key, b.key));
  return reverse ? recs.reverse() : recs;
}

/** What the merge must yield: per key, the version with the highest seq, in key order. */
function expected(sources: KvRecord[][], reverse: boolean): string[] {
  const newest = new Map<string, KvRecord>();
  for (const s of sources) {
    for (const r of s) {
      const k = r.keyString();
      const seen = newest.get(k);
      if (seen === undefined || r.seq > seen.seq) newest.set(k, r);
    }
  }
  const out = [...newest.values()].sort((a, b) => compareBytes(a.key, b.key));
  return (reverse ? out.reverse() : out).map(show);
}

/** A record as key@seq, with a trailing '-' for a tombstone. */
const show = (r: KvRecord) => `${r.keyString()}@${r.seq}${r.tombstone ? '-' : ''}`;

/** Sources with unique seqs across all of them (seqs never repeat in a store). */
const sourcesArb = fc
  .array(
    fc.array(fc.constantFrom(...'abcdefghijklmnop'.split('').flatMap((c) => [c, `${c}${c}`, `${c}\u00ff`])), {
      maxLength: 30,
    }),
    {
      maxLength: 40,
    },
  )
  .map((keysPerSource) => {
    let seq = 0;
    return keysPerSource.map((keys) => keys.map((key) => ({ key, seq: ++seq })));
  });

/** The merge of `sources` (each read from its start), as `show` strings. */
function merged(sources: KvRecord[][], reverse: boolean): string[] {
  return [
    ...mergeNewest(
      sources.map((s) => s[Symbol.iterator]()),
      reverse,
    ),
  ].map(show);
}

describe('mergeNewest', () => {
  it('yields the newest version of every key, in order, from any number of sources (property)', () => {
    fc.assert(
      fc.property(sourcesArb, fc.boolean(), fc.integer(), (raw, reverse, shuffleSeed) => {
        // Seqs are spread over the sources in any order, so the newest may be in any of them.
        let x = shuffleSeed | 1;
        const sources = raw.map((versions) =>
          source(
            versions.map((v) => {
              x = (Math.imul(x, 1103515245) + 12345) | 0;
              return { key: v.key, seq: v.seq * 1000 + ((x >>> 8) % 1000) };
            }),
            reverse,
          ),
        );
        expect(merged(sources, reverse)).toEqual(expected(sources, reverse));
      }),
      { numRuns: 300 },
    );
  });

  it('takes the newest of a key held by every one of 64 sources, whichever source holds it', () => {
    for (const newestIn of [0, 17, 63]) {
      const sources = Array.from({ length: 64 }, (_, i) =>
        source(
          [
            { key: 'k', seq: i === newestIn ? 1000 : i + 1 },
            { key: `k${String(i).padStart(2, '0')}`, seq: 2000 + i },
          ],
          false,
        ),
      );
      const got = merged(sources, false);
      expect(got[0]).toBe('k@1000');
      expect(got.length).toBe(65);
      expect(got.slice(1)).toEqual(
        Array.from(
          { length: 64 },
          (_, i) => `k${String(i).padStart(2, '0')}@${2000 + i}${(2000 + i) % 7 === 0 ? '-' : ''}`,
        ),
      );
    }
  });

  it('closes every source when abandoned early, and when done', () => {
    const closed: number[] = [];
    const tracked = (i: number, recs: KvRecord[]) => {
      function* gen() {
        try {
          yield* recs;
        } finally {
          closed.push(i);
        }
      }
      return gen();
    };
    const make = () =>
      [0, 1, 2].map((i) =>
        tracked(
          i,
          source(
            [
              { key: `k${i}`, seq: i + 1 },
              { key: 'z', seq: 10 + i },
            ],
            false,
          ),
        ),
      );
    for (const r of mergeNewest(make(), false)) {
      expect(r.keyString()).toBe('k0');
      break;
    }
    expect(closed.sort()).toEqual([0, 1, 2]);
    closed.length = 0;
    expect([...mergeNewest(make(), false)].map(show)).toEqual(['k0@1', 'k1@2', 'k2@3', 'z@12']);
    expect(closed.sort()).toEqual([0, 1, 2]);
    expect([...mergeNewest([], false)]).toEqual([]);
  });
});
