import { Worker } from 'node:worker_threads';
import { type KvErrorCode, KvError } from '@kv/record';
import type { CompactionJob } from './compaction-job.js';

interface Pending {
  resolve: (written: number) => void;
  reject: (err: unknown) => void;
}

interface Reply {
  id: number;
  /** How many of the job's outputs were written. */
  written?: number;
  error?: { code?: KvErrorCode; message: string; syscallCode?: string };
}

/**
 * One worker thread per store that runs compactions: merging and writing a table is CPU work
 * that would otherwise take turns with the store's reads and writes on the event loop. Started
 * on first use; does not keep the process alive; `close()` ends it.
 */
export class CompactionThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** Runs `job`; resolves with how many of its outputs it wrote (runCompactionJob). */
  run(job: CompactionJob): Promise<number> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // a running compaction keeps the process alive; an idle thread does not
      worker.postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
    this.failAll(new KvError('KV_NOT_OPEN', 'the store closed while a compaction was running'));
  }

  private start(): Worker {
    if (this.worker !== null) return this.worker;
    // No inherited node flags: some (--input-type, --eval) are refused in a worker, and the
    // merge needs none. The merge's garbage is all short-lived records: an 8 MB young
    // generation (V8's default is up to 3 x 16 MB) took the peak RSS of a 10M-key load from
    // 286-292 to 263-270 MB in alternating runs, with no change in load time.
    const worker = new Worker(new URL('./compaction-worker.js', import.meta.url), {
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (err) => {
      if (this.worker === worker) this.worker = null;
      this.failAll(new KvError('KV_IO_ERROR', `the compaction thread failed: ${err.message}`, { cause: err }));
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failAll(new KvError('KV_IO_ERROR', `the compaction thread exited (code ${code}) during a compaction`));
    });
    this.worker = worker;
    return worker;
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.error === undefined) {
      p.resolve(reply.written ?? 0);
      return;
    }
    const { code, message, syscallCode } = reply.error;
    const what = syscallCode === undefined ? '' : ` (${syscallCode})`;
    p.reject(
      code === undefined
        ? new KvError('KV_IO_ERROR', `compaction failed${what}: ${message}; the store must be reopened`)
        : new KvError(code, message),
    );
  }

  private failAll(err: KvError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
