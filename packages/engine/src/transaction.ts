import { compareBytes, copyBytes, describe, KvError, type KvRecord, type RecordLimits } from '@kv/record';
import { toRecord } from './batch.js';

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/**
 * The handle a `db.transaction()` callback gets. Reads see the store plus this transaction's
 * own writes; writes are buffered and applied atomically (one WAL frame) when the callback
 * resolves, or dropped if it throws.
 */
export class KvTransaction {
  private readonly writes = new Map<string, KvRecord>();
  private done = false;

  constructor(
    private readonly read: (key: Uint8Array) => KvRecord | undefined,
    private readonly limits: RecordLimits,
  ) {}

  get(key: string | Uint8Array): Uint8Array | undefined {
    this.guard();
    const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (!(k instanceof Uint8Array)) throw new TypeError(`key must be a string or a Uint8Array, got ${describe(key)}`);
    const rec = this.getRecord(k);
    // A copy: the record may be a view of a memtable, or of the WAL's mapping.
    return rec === undefined || rec.tombstone ? undefined : copyBytes(rec.value);
  }

  /** @internal the newest record for `key` (tombstones and sketch types included) */
  getRecord(key: Uint8Array): KvRecord | undefined {
    this.guard();
    return this.writes.get(latin1(key)) ?? this.read(key);
  }

  /** @internal buffers a prepared record (sketch values carry their type) */
  putRecord(rec: KvRecord): void {
    this.guard();
    this.writes.set(latin1(rec.key), rec);
  }

  put(key: string | Uint8Array, value: string | Uint8Array): void {
    this.guard();
    const rec = toRecord(key, value, false, this.limits);
    this.writes.set(latin1(rec.key), rec);
  }

  del(key: string | Uint8Array): void {
    this.guard();
    const rec = toRecord(key, undefined, true, this.limits);
    this.writes.set(latin1(rec.key), rec);
  }

  /** @internal the buffered writes in key order; the handle is unusable afterwards */
  seal(): KvRecord[] {
    this.done = true;
    return [...this.writes.values()].sort((a, b) => compareBytes(a.key, b.key));
  }

  private guard(): void {
    if (this.done) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        'this transaction has finished; use the handle only inside its callback',
      );
    }
  }
}
