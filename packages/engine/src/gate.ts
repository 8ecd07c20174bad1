import { AsyncLocalStorage } from 'node:async_hooks';
import { KvError } from '@kv/record';

/**
 * Serializes transactions against every other write. Plain writes share the gate; a
 * transaction holds it alone, from its first read until its commit is logged, so what it read
 * cannot change under it (serializable). Writes issued from inside a transaction's callback
 * through the store instead of the transaction would wait for themselves: they are refused.
 */
export class WriteGate {
  private exclusive: Promise<void> | null = null;
  private shared = 0;
  private drained: (() => void) | null = null;
  private readonly context = new AsyncLocalStorage<true>();

  /** Enters without waiting when no transaction holds the gate (the common case). */
  tryEnter(): boolean {
    if (this.exclusive !== null || this.context.getStore() === true) return false;
    this.shared++;
    return true;
  }

  /** Resolves when a plain write may go ahead; call `leave()` once it is logged. */
  async enter(): Promise<void> {
    if (this.context.getStore() === true) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        'a write through the store inside db.transaction() would deadlock; use tx.put / tx.del',
      );
    }
    while (this.exclusive !== null) await this.exclusive;
    this.shared++;
  }

  leave(): void {
    if (--this.shared === 0 && this.drained !== null) this.drained();
  }

  /** Runs `fn` while no other write is in progress or can start. */
  async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.context.getStore() === true) {
      throw new KvError('KV_INVALID_ARGUMENT', 'transactions do not nest; use the outer transaction');
    }
    while (this.exclusive !== null) await this.exclusive;
    let release = () => {};
    this.exclusive = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.shared > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = null;
      return await this.context.run(true, fn);
    } finally {
      this.exclusive = null;
      release();
    }
  }
}
