/**
 * lmdb (lmdb-js). Durable: default options (commits are flushed) and `await put`, whose promise
 * resolves once the commit is flushed; concurrent puts share a commit. putSync is not used for
 * durable puts: with overlappingSync (the Linux default) it may return before its flush.
 * Unsynced: `noSync: true` (LMDB keeps atomicity and consistency, drops the flush), putSync
 * and one transactionSync per batch. Reads: getBinaryFast (a reused buffer, no copy), the
 * read path lmdb-js recommends for speed; scans: getRange.
 */
import { open, type RootDatabase } from 'lmdb';
import type { OpenOptions, ScanTotals, Store, StoreDriver } from './types.js';

type Db = RootDatabase<Buffer, Buffer>;

class LmdbStore implements Store {
  constructor(
    private readonly db: Db,
    private readonly durable: boolean,
  ) {}

  async put(key: Buffer, value: Buffer): Promise<void> {
    if (this.durable) await this.db.put(key, value);
    else this.db.putSync(key, value);
  }

  async batch(keys: readonly Buffer[], values: readonly Buffer[]): Promise<void> {
    this.db.transactionSync(() => {
      for (let i = 0; i < keys.length; i++) this.db.putSync(keys[i] as Buffer, values[i] as Buffer);
    });
    if (this.durable) await this.db.flushed;
  }

  get(key: Buffer): Uint8Array | undefined {
    return this.db.getBinaryFast(key);
  }

  async scan(reverse: boolean): Promise<ScanTotals> {
    const totals = { entries: 0, bytes: 0 };
    for (const { key, value } of this.db.getRange({ reverse })) {
      totals.entries++;
      totals.bytes += key.length + value.length;
    }
    return totals;
  }

  async settle(): Promise<void> {
    await this.db.flushed;
  }

  async maintain(): Promise<void> {}

  budgets(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export const lmdbDriver: StoreDriver = {
  name: 'lmdb',
  unavailable: async () => null,
  async open(o: OpenOptions): Promise<Store> {
    const db = open<Buffer, Buffer>({
      path: o.dir,
      keyEncoding: 'binary',
      encoding: 'binary',
      ...(o.durable ? {} : { noSync: true }),
    });
    return new LmdbStore(db, o.durable);
  },
};
