import type { BatchOperation, KvClient, KvStore } from '@kv/engine';
import { CliError } from './errors.js';
import type { Output } from './output.js';
import type { Transaction } from './transaction.js';

/**
 * The operations a rate-limited client spends tokens on (db.client(id)); the store itself
 * offers the same ones without a limit.
 */
export type StoreOps = Pick<KvClient, 'get' | 'put' | 'delete' | 'batch' | 'iterator' | 'transaction'>;

/** How commands arrive: typed at a prompt, read from piped stdin, or given once on the command line. */
export type Mode = 'repl' | 'script' | 'once';

/**
 * What commands share while kv-cli runs: the open store, where output goes, and the writes
 * queued by `batch begin` or buffered by `tx begin`. Both live only in memory until their
 * commit; at most one of them is open at a time.
 */
export class Session {
  /** Writes queued since `batch begin`; null when no batch is open. */
  pending: BatchOperation[] | null = null;
  /** The transaction opened by `tx begin`; null when none is open. */
  tx: Transaction | null = null;
  /** Set by `exit`/`quit`: the REPL or script stops after this line. */
  exitRequested = false;
  private cancel = new AbortController();
  private clientOps: KvClient | undefined;

  constructor(
    readonly out: Output,
    /** The data directory as the user gave it. */
    readonly dir: string,
    readonly mode: Mode,
    private readonly db: KvStore | undefined,
    /** With --rate-limit: the client id whose token bucket get, put, del, scan, ... spend. */
    private readonly clientId?: string,
  ) {}

  get store(): KvStore {
    if (this.db === undefined) throw new CliError('no store is open');
    return this.db;
  }

  /** get, put, delete, batch, iterator, transaction: through the rate-limited client if there is one. */
  get ops(): StoreOps {
    if (this.clientId === undefined) return this.store;
    this.clientOps ??= this.store.client(this.clientId);
    return this.clientOps;
  }

  /** Asks the running command to stop at its next check (Ctrl-C, or stdout closed). */
  interrupt(): void {
    this.cancel.abort();
  }

  get interrupted(): boolean {
    return this.cancel.signal.aborted;
  }

  /** Resolves when the running command is interrupted (for commands that wait, like tail). */
  whenInterrupted(): Promise<void> {
    const { signal } = this.cancel;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /** Called before each command: a Ctrl-C aimed at the previous command does not leak into the next. */
  resetInterrupt(): void {
    if (this.cancel.signal.aborted) this.cancel = new AbortController();
  }
}

/** Lets the event loop run (output drains, Ctrl-C is seen) during a long synchronous loop. */
export function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
