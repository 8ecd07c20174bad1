import type { BatchOperation, KvStore } from '@kv/engine';
import { CliError } from './errors.js';
import type { Output } from './output.js';

/** How commands arrive: typed at a prompt, read from piped stdin, or given once on the command line. */
export type Mode = 'repl' | 'script' | 'once';

/**
 * What commands share while kv-cli runs: the open store, where output goes, and the writes
 * queued by `batch begin`. A batch lives only in memory until `batch commit`.
 */
export class Session {
  /** Writes queued since `batch begin`; null when no batch is open. */
  pending: BatchOperation[] | null = null;
  /** Set by `exit`/`quit`: the REPL or script stops after this line. */
  exitRequested = false;
  private cancel = new AbortController();

  constructor(
    readonly out: Output,
    /** The data directory as the user gave it. */
    readonly dir: string,
    readonly mode: Mode,
    private readonly db: KvStore | undefined,
  ) {}

  get store(): KvStore {
    if (this.db === undefined) throw new CliError('no store is open');
    return this.db;
  }

  /** Asks the running command to stop at its next check (Ctrl-C, or stdout closed). */
  interrupt(): void {
    this.cancel.abort();
  }

  get interrupted(): boolean {
    return this.cancel.signal.aborted;
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
