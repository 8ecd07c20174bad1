/**
 * The transaction `tx begin` opens: writes buffered in memory, reads that see them over the
 * store, and the values `get` read from the store, so `tx commit` can check they still hold.
 *
 * A REPL transaction spans several prompts, so it cannot sit inside one `db.transaction()`
 * callback the whole time (the REPL's own writes would wait on it). Instead `tx commit` runs
 * one `db.transaction()` that re-checks the reads and applies the buffered writes atomically.
 * Nothing else writes meanwhile: the store is locked to this process, and while a transaction
 * is open kv-cli refuses the commands that would write around it (batch, hll add, cms add, load).
 */
import type { KvTransaction } from '@kv/engine';
import { bytesEqual, compareBytes } from '@kv/record';
import { CliError } from './errors.js';
import type { StoreOps } from './session.js';

/** A buffered write: `value` undefined is a delete. */
export interface TxWrite {
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

export interface TxRange {
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
}

const id = (key: Uint8Array) => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

export class Transaction {
  /** The latest write per key, in the order keys were first written. */
  private readonly writes = new Map<string, TxWrite>();
  /** What `get` read from the store (not from this transaction's writes), by key. */
  private readonly reads = new Map<string, TxWrite>();

  /** Keys with a buffered write: what `tx commit` will apply. */
  get size(): number {
    return this.writes.size;
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.writes.set(id(key), { key, value });
  }

  del(key: Uint8Array): void {
    this.writes.set(id(key), { key, value: undefined });
  }

  /** The buffered write for `key`, if this transaction wrote it. */
  own(key: Uint8Array): TxWrite | undefined {
    return this.writes.get(id(key));
  }

  /** The value as this transaction sees it: its own write, else the store's (remembered for commit). */
  get(store: StoreOps, key: Uint8Array): Uint8Array | undefined {
    const mine = this.own(key);
    if (mine !== undefined) return mine.value;
    const value = store.get(key);
    if (!this.reads.has(id(key))) this.reads.set(id(key), { key, value });
    return value;
  }

  /**
   * [key, value] pairs in the range as this transaction sees them: the store's entries with
   * the buffered writes laid over them, in key order (descending with `reverse`).
   */
  *entries(store: StoreOps, range: TxRange, reverse: boolean): Generator<[Uint8Array, Uint8Array]> {
    const dir = reverse ? -1 : 1;
    const mine = [...this.writes.values()]
      .filter(
        (w) =>
          (range.gte === undefined || compareBytes(w.key, range.gte) >= 0) &&
          (range.lt === undefined || compareBytes(w.key, range.lt) < 0),
      )
      .sort((a, b) => dir * compareBytes(a.key, b.key));
    let i = 0;
    for (const [key, value] of store.iterator({ ...range, reverse })) {
      // Buffered writes that come before this store key.
      for (let w = mine[i]; w !== undefined && dir * compareBytes(w.key, key) < 0; w = mine[++i]) {
        if (w.value !== undefined) yield [w.key, w.value];
      }
      const w = mine[i];
      if (w !== undefined && compareBytes(w.key, key) === 0) {
        i++;
        if (w.value !== undefined) yield [w.key, w.value];
        continue;
      }
      yield [key, value];
    }
    for (const w of mine.slice(i)) if (w.value !== undefined) yield [w.key, w.value];
  }

  /**
   * Inside `db.transaction()`: checks that every value `get` read is still the store's, then
   * buffers the writes in `tx`. Throws (so nothing is applied) when a read went stale.
   */
  applyTo(tx: KvTransaction, show: (bytes: Uint8Array) => string): void {
    for (const r of this.reads.values()) {
      const now = tx.get(r.key);
      const same = now === undefined || r.value === undefined ? now === r.value : bytesEqual(now, r.value);
      if (!same) {
        throw new CliError(
          `${show(r.key)} changed after this transaction read it; nothing was applied (tx abort, then start again)`,
        );
      }
    }
    for (const w of this.writes.values()) {
      if (w.value === undefined) tx.del(w.key);
      else tx.put(w.key, w.value);
    }
  }
}
