/**
 * better-sqlite3 (SQLite). One WITHOUT ROWID table keyed by the key blob, journal_mode=WAL,
 * prepared statements, one transaction per batch. Durable: synchronous=FULL (the WAL is
 * fsynced at every commit). Unsynced: synchronous=NORMAL, which in WAL mode stays consistent
 * after a crash and syncs only at checkpoints. The API is synchronous, so "64 in flight" runs
 * one statement at a time.
 */
import Database from 'better-sqlite3';
import type { OpenOptions, ScanTotals, Store, StoreDriver } from './types.js';

type Row = [Buffer, Buffer];

class SqliteStore implements Store {
  private readonly insert: Database.Statement<[Buffer, Buffer]>;
  private readonly select: Database.Statement<[Buffer], Buffer>;
  private readonly insertMany: (keys: readonly Buffer[], values: readonly Buffer[]) => void;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare<[Buffer, Buffer]>('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
    this.select = db.prepare<[Buffer], Buffer>('SELECT v FROM kv WHERE k = ?').pluck();
    this.insertMany = db.transaction((keys: readonly Buffer[], values: readonly Buffer[]) => {
      for (let i = 0; i < keys.length; i++) this.insert.run(keys[i] as Buffer, values[i] as Buffer);
    });
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    this.insert.run(key, value);
  }

  async batch(keys: readonly Buffer[], values: readonly Buffer[]): Promise<void> {
    this.insertMany(keys, values);
  }

  get(key: Buffer): Uint8Array | undefined {
    return this.select.get(key);
  }

  async scan(reverse: boolean): Promise<ScanTotals> {
    const sql = `SELECT k, v FROM kv ORDER BY k ${reverse ? 'DESC' : 'ASC'}`;
    const totals = { entries: 0, bytes: 0 };
    for (const row of this.db.prepare<[], Row>(sql).raw().iterate()) {
      totals.entries++;
      totals.bytes += row[0].length + row[1].length;
    }
    return totals;
  }

  /** Moves the WAL's pages into the main database file. */
  async settle(): Promise<void> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async maintain(): Promise<void> {}

  budgets(): Record<string, number> {
    return { cacheSize: 2 * 1024 * 1024 };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

export const betterSqlite3Driver: StoreDriver = {
  name: 'better-sqlite3',
  unavailable: async () => null,
  async open(o: OpenOptions): Promise<Store> {
    const db = new Database(`${o.dir}/kv.sqlite`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${o.durable ? 'FULL' : 'NORMAL'}`);
    db.exec('CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
    return new SqliteStore(db);
  },
};
