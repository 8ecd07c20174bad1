import { randomUUID } from 'node:crypto';
import { describe, KvError, type KvRecord } from '@kv/record';

export interface TransactionOptions {
  /** The transaction is aborted (KV_TX_EXPIRED) if not committed within this time. 0 = never. Default 30,000. */
  timeoutMs?: number;
  /** Most entries it may hold (KV_TOO_LARGE past it). Default 10,000. */
  maxEntries?: number;
  /** Most encoded bytes it may hold (KV_TOO_LARGE past it). Default 16 MiB. */
  maxBytes?: number;
}

type State = 'pending' | 'committing' | 'committed' | 'rolled back' | 'expired';

interface Tx {
  id: string;
  state: State;
  records: KvRecord[];
  bytes: number;
  deadline: number;
  maxEntries: number;
  maxBytes: number;
}

/** How many finished transactions are remembered, to tell "finished" from "unknown". */
const REMEMBERED = 1024;

/**
 * walrus-style transactions over a WAL: entries are collected in memory and written at commit
 * as ONE frame, so after a crash a committed transaction is there whole and an uncommitted one
 * not at all. Expired transactions are swept on every call: no timer to start or stop.
 */
export class Transactions {
  private readonly pending = new Map<string, Tx>();
  private readonly finished = new Map<string, State>();

  constructor(
    private readonly write: (records: KvRecord[]) => Promise<number[]>,
    private readonly check: (rec: KvRecord) => number,
  ) {}

  get pendingCount(): number {
    this.sweep();
    return this.pending.size;
  }

  begin(options: TransactionOptions = {}): string {
    if (options === null || typeof options !== 'object')
      throw new TypeError(`options must be an object, got ${describe(options)}`);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const maxEntries = options.maxEntries ?? 10_000;
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    for (const [name, v] of [
      ['timeoutMs', timeoutMs],
      ['maxEntries', maxEntries],
      ['maxBytes', maxBytes],
    ] as const) {
      if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${describe(v)}`);
      if (!Number.isSafeInteger(v) || v < 0)
        throw new KvError('KV_INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${v}`);
    }
    this.sweep();
    const id = randomUUID();
    const deadline = timeoutMs === 0 ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
    this.pending.set(id, { id, state: 'pending', records: [], bytes: 0, deadline, maxEntries, maxBytes });
    return id;
  }

  add(id: string, rec: KvRecord): void {
    const tx = this.live(id);
    const size = this.check(rec);
    if (tx.records.length + 1 > tx.maxEntries || tx.bytes + size > tx.maxBytes) {
      throw new KvError(
        'KV_TOO_LARGE',
        `transaction ${id} would exceed its cap (${tx.maxEntries} entries, ${tx.maxBytes} bytes); commit it and start another`,
      );
    }
    tx.records.push(rec);
    tx.bytes += size;
  }

  /** Writes every entry as one frame; resolves with their indices. An empty commit writes nothing. */
  async commit(id: string): Promise<number[]> {
    const tx = this.live(id);
    tx.state = 'committing';
    try {
      const indices = tx.records.length === 0 ? [] : await this.write(tx.records);
      this.finish(tx, 'committed');
      return indices;
    } catch (err) {
      this.finish(tx, 'rolled back');
      throw err;
    }
  }

  rollback(id: string): void {
    this.finish(this.live(id), 'rolled back');
  }

  /** Rolls back every pending transaction (on close). */
  rollbackAll(): void {
    for (const tx of [...this.pending.values()]) if (tx.state === 'pending') this.finish(tx, 'rolled back');
  }

  private live(id: string): Tx {
    if (typeof id !== 'string') throw new TypeError(`transaction id must be a string, got ${describe(id)}`);
    this.sweep();
    const tx = this.pending.get(id);
    if (tx !== undefined && tx.state === 'pending') return tx;
    const state = tx?.state ?? this.finished.get(id);
    if (state === 'expired')
      throw new KvError('KV_TX_EXPIRED', `transaction ${id} expired before it was committed; start a new one`);
    if (state === undefined) throw new KvError('KV_TX_NOT_FOUND', `no transaction ${id}; it was never begun here`);
    throw new KvError('KV_TX_NOT_PENDING', `transaction ${id} is already ${state}`);
  }

  private finish(tx: Tx, state: State): void {
    tx.state = state;
    tx.records = [];
    this.pending.delete(tx.id);
    this.finished.set(tx.id, state);
    if (this.finished.size > REMEMBERED) this.finished.delete(this.finished.keys().next().value as string);
  }

  private sweep(): void {
    const now = performance.now();
    for (const tx of [...this.pending.values()])
      if (tx.state === 'pending' && now > tx.deadline) this.finish(tx, 'expired');
  }
}
