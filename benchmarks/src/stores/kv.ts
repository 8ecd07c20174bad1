/**
 * kv (@kv/engine). Durable: sync 'always' (put resolves after fdatasync; concurrent puts share
 * one sync through the WAL's group commit). Unsynced: sync 'none'. Reads: the synchronous get;
 * scans: the iterator; settle: waitForCompaction() (flush, then let background compaction catch
 * up, as the store would on its own moments later); maintenance: compact().
 *
 * The engine is loaded dynamically and typed structurally below, so the harness builds and
 * runs (skipping kv's engine workloads with "kv engine not built yet") whenever @kv/engine
 * does not export KvStore.
 */
import type { OpenOptions, ReplayReport, ScanTotals, Store, StoreDriver } from './types.js';

/** The parts of the @kv/engine API (DESIGN.md) this adapter uses. */
interface KvStoreApi {
  put(key: Uint8Array, value: Uint8Array): Promise<unknown>;
  get(key: Uint8Array): Uint8Array | undefined;
  batch(ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[]): Promise<unknown>;
  iterator(options: { reverse?: boolean }): Iterable<[Uint8Array, Uint8Array]>;
  flush(): Promise<unknown>;
  waitForCompaction?(): Promise<unknown>;
  compact(): Promise<unknown>;
  close(): Promise<unknown>;
  stats(): { recovery?: { replayed?: number; wal?: { bytes?: number } } };
}

interface KvEngine {
  KvStore: { open(dir: string, options: Record<string, unknown>): Promise<KvStoreApi> };
  defaults: Readonly<Record<string, unknown>>;
}

/**
 * Engine options of every kv run besides `sync`: the engine's defaults, overridden by the
 * JSON in KV_BENCH_OPTIONS (e.g. '{"blockCacheBytes":0}' to measure without the block cache).
 */
const KV_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze(
  JSON.parse(process.env.KV_BENCH_OPTIONS ?? '{}') as Record<string, unknown>,
);
/** The engine's upper bound on memtableBytes. */
const MAX_MEMTABLE_BYTES = 1024 * 1024 * 1024;

export const ENGINE_MISSING = 'kv engine not built yet';

let loaded: Promise<KvEngine | null> | undefined;

/** The engine, or null when @kv/engine does not export a KvStore (yet). */
export function loadEngine(): Promise<KvEngine | null> {
  loaded ??= import('@kv/engine').then(
    (mod: Record<string, unknown>) => {
      const KvStore = mod.KvStore as Partial<KvEngine['KvStore']> | undefined;
      if (typeof KvStore?.open !== 'function') return null;
      const defaults = (mod.DEFAULT_KV_STORE_OPTIONS ?? {}) as Record<string, unknown>;
      return { KvStore: KvStore as KvEngine['KvStore'], defaults };
    },
    () => null,
  );
  return loaded;
}

function numberOption(options: Record<string, unknown>, name: string): number {
  const v = options[name];
  return typeof v === 'number' ? v : 0;
}

class KvEngineStore implements Store {
  constructor(
    private readonly db: KvStoreApi,
    private readonly options: Record<string, unknown>,
  ) {}

  async put(key: Buffer, value: Buffer): Promise<void> {
    await this.db.put(key, value);
  }

  async batch(keys: readonly Buffer[], values: readonly Buffer[]): Promise<void> {
    await this.db.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: values[i] as Buffer })));
  }

  get(key: Buffer): Uint8Array | undefined {
    return this.db.get(key);
  }

  async scan(reverse: boolean): Promise<ScanTotals> {
    const totals = { entries: 0, bytes: 0 };
    for (const [k, v] of this.db.iterator({ reverse })) {
      totals.entries++;
      totals.bytes += k.length + v.length;
    }
    return totals;
  }

  async settle(): Promise<void> {
    if (this.db.waitForCompaction === undefined) await this.db.flush();
    else await this.db.waitForCompaction();
  }

  async maintain(): Promise<void> {
    await this.db.compact();
  }

  /** The memory kv is configured to use (DESIGN.md: "memtable + cache budgets"): the active memtable, the immutable ones waiting for flush, and the block cache. */
  budgets(): Record<string, number> {
    const memtable = numberOption(this.options, 'memtableBytes');
    const immutables = numberOption(this.options, 'maxImmutableMemtables');
    const cache = numberOption(this.options, 'blockCacheBytes');
    return {
      ...(memtable > 0 ? { memtables: memtable * (1 + immutables) } : {}),
      ...(cache > 0 ? { blockCache: cache } : {}),
    };
  }

  replayed(): ReplayReport | undefined {
    const recovery = this.db.stats().recovery;
    const logBytes = recovery?.wal?.bytes;
    if (typeof logBytes !== 'number') return undefined;
    return { logBytes, entries: recovery?.replayed ?? 0 };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export const kvDriver: StoreDriver = {
  name: 'kv',
  async unavailable() {
    return (await loadEngine()) === null ? ENGINE_MISSING : null;
  },
  async open(o: OpenOptions): Promise<Store> {
    const engine = await loadEngine();
    if (engine === null) throw new Error(ENGINE_MISSING);
    const options: Record<string, unknown> = { ...KV_OPTIONS, sync: o.durable ? 'always' : 'none' };
    if (o.unflushedBytes !== undefined) {
      // Room for the whole fill plus the memtable's per-entry overhead, within the engine's limit.
      options.memtableBytes = Math.min(MAX_MEMTABLE_BYTES, o.unflushedBytes * 2);
    }
    const db = await engine.KvStore.open(o.dir, options);
    return new KvEngineStore(db, { ...engine.defaults, ...options });
  },
};
