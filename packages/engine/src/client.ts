import { describe } from '@kv/record';
import type { BatchOperation } from './batch.js';
import type { IteratorOptions, KvIterator } from './iterator.js';
import type { RateLimiter } from './rate-limit.js';
import type { KvStore } from './store.js';
import type { KvTransaction } from './transaction.js';

/**
 * The store as one client sees it: every operation first spends tokens from the client's
 * bucket (one per operation, one per batch entry). Without a `rateLimit` option nothing is
 * limited.
 */
export class KvClient {
  constructor(
    private readonly store: KvStore,
    readonly id: string,
    private readonly limiter: RateLimiter | undefined,
  ) {
    if (typeof id !== 'string' || id === '')
      throw new TypeError(`client id must be a non-empty string, got ${describe(id)}`);
  }

  private spend(n = 1): void {
    this.limiter?.take(this.id, n);
  }

  get(key: string | Uint8Array): Uint8Array | undefined {
    this.spend();
    return this.store.get(key);
  }

  async put(key: string | Uint8Array, value: string | Uint8Array): Promise<void> {
    this.spend();
    await this.store.put(key, value);
  }

  async delete(key: string | Uint8Array): Promise<void> {
    this.spend();
    await this.store.delete(key);
  }

  async batch(ops: readonly BatchOperation[]): Promise<void> {
    this.spend(Array.isArray(ops) ? Math.max(1, ops.length) : 1);
    await this.store.batch(ops);
  }

  iterator(options?: IteratorOptions): KvIterator {
    this.spend();
    return this.store.iterator(options);
  }

  async transaction<T>(fn: (tx: KvTransaction) => Promise<T> | T): Promise<T> {
    this.spend();
    return this.store.transaction(fn);
  }
}
