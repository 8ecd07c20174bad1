/**
 * classic-level (LevelDB). Durable: put(k, v, { sync: true }), so LevelDB fsyncs its log per
 * write and groups concurrent writers into one sync. Unsynced: plain put and batch. Reads:
 * getSync; scans: an iterator read in nextv() chunks. Buffer encodings avoid transcoding.
 */
import { ClassicLevel } from 'classic-level';
import type { OpenOptions, ScanTotals, Store, StoreDriver } from './types.js';

type Db = ClassicLevel<Buffer, Buffer>;

const ENCODINGS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

class LevelStore implements Store {
  private readonly writeOptions: { sync: boolean };

  constructor(
    private db: Db,
    private readonly dir: string,
    durable: boolean,
  ) {
    this.writeOptions = { sync: durable };
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    await this.db.put(key, value, this.writeOptions);
  }

  async batch(keys: readonly Buffer[], values: readonly Buffer[]): Promise<void> {
    const ops = keys.map((key, i) => ({ type: 'put' as const, key, value: values[i] as Buffer }));
    await this.db.batch(ops, this.writeOptions);
  }

  get(key: Buffer): Uint8Array | undefined {
    return this.db.getSync(key);
  }

  async scan(reverse: boolean): Promise<ScanTotals> {
    const totals = { entries: 0, bytes: 0 };
    const it = this.db.iterator({ reverse });
    try {
      for (;;) {
        const chunk = await it.nextv(1000);
        if (chunk.length === 0) break;
        for (const [k, v] of chunk) {
          totals.entries++;
          totals.bytes += k.length + v.length;
        }
      }
    } finally {
      await it.close();
    }
    return totals;
  }

  /** LevelDB has no flush call: reopening writes its log into a level-0 table. */
  async settle(): Promise<void> {
    await this.db.close();
    this.db = await openDb(this.dir);
  }

  async maintain(): Promise<void> {}

  budgets(): Record<string, number> {
    return { writeBufferSize: 4 * 1024 * 1024, cacheSize: 8 * 1024 * 1024 };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

async function openDb(dir: string): Promise<Db> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, ENCODINGS);
  await db.open();
  return db;
}

export const classicLevelDriver: StoreDriver = {
  name: 'classic-level',
  unavailable: async () => null,
  async open(o: OpenOptions): Promise<Store> {
    return new LevelStore(await openDb(o.dir), o.dir, o.durable);
  },
};
