/** Per-operation latencies in microseconds; grows as needed, sorted once when asked. */
export class Latencies {
  private samples = new Float64Array(1 << 16);
  private n = 0;

  record(micros: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = micros;
  }

  get count(): number {
    return this.n;
  }

  /** The p-th percentile (0..100) by nearest rank; 0 when nothing was recorded. */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    const sorted = this.samples.subarray(0, this.n).sort();
    const rank = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
    return sorted[rank] as number;
  }
}

/** Milliseconds since an arbitrary origin, with sub-microsecond resolution. */
export const now = (): number => performance.now();

export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

export function mbPerSecond(bytes: number, ms: number): number {
  return ms > 0 ? bytes / 1e6 / (ms / 1000) : 0;
}

/**
 * Runs `op` with `concurrency` loops in flight until `ms` have passed (or, when `fixedOps` is
 * set, until that many operations completed). Resolves with completed operations and elapsed ms.
 * `op(i)` receives a unique, increasing operation number starting at `first`.
 */
export async function runLoops(
  op: (i: number) => Promise<unknown>,
  opts: { ms: number; concurrency: number; first?: number; fixedOps?: number; latencies?: Latencies },
): Promise<{ ops: number; ms: number }> {
  let next = opts.first ?? 0;
  const limit = opts.fixedOps === undefined ? Number.POSITIVE_INFINITY : next + opts.fixedOps;
  let done = 0;
  const start = now();
  const deadline = opts.fixedOps === undefined ? start + opts.ms : Number.POSITIVE_INFINITY;
  const lat = opts.latencies;
  const loop = async (): Promise<void> => {
    while (next < limit && now() < deadline) {
      const i = next++;
      const t0 = lat === undefined ? 0 : now();
      await op(i);
      if (lat !== undefined) lat.record((now() - t0) * 1000);
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, loop));
  return { ops: done, ms: now() - start };
}
