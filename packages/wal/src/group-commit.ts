interface Waiter {
  index: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: writers wait for their entry index to become durable; one sync runs at a
 * time, and every writer that arrived while it ran shares the next one. `syncNow` performs
 * one sync (off the event loop) and returns the highest index it made durable.
 */
export class GroupCommit {
  private durable: number;
  private running: Promise<void> | null = null;
  private waiters: Waiter[] = [];
  private failure: unknown = null;

  constructor(
    private readonly syncNow: () => Promise<number>,
    private readonly onFailure: (err: unknown) => unknown,
    durableIndex: number,
  ) {
    this.durable = durableIndex;
  }

  get durableIndex(): number {
    return this.durable;
  }

  /** Records durability reached outside the group (rollover, close). */
  markDurable(index: number): void {
    if (index > this.durable) this.durable = index;
    this.settle();
  }

  /** After entries were dropped (reset, truncate), durability is no more than the new end. */
  lowerTo(index: number): void {
    if (index < this.durable) this.durable = index;
  }

  wait(index: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (index <= this.durable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ index, resolve, reject });
      if (this.running === null) this.running = this.loop();
    });
  }

  /** Resolves once no sync is running. */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async loop(): Promise<void> {
    try {
      while (this.failure === null && this.waiters.length > 0) {
        // Writers woken by the previous sync resubmit in microtasks; one macrotask turn lets
        // them join this sync instead of forming a second cohort that waits for the next one.
        await new Promise<void>((resolve) => setImmediate(resolve));
        try {
          this.markDurable(await this.syncNow());
        } catch (err) {
          // The owner turns the system error into its sticky, typed failure.
          const failure = this.onFailure(err);
          this.failure = failure;
          const failed = this.waiters;
          this.waiters = [];
          for (const w of failed) w.reject(failure);
        }
      }
    } finally {
      this.running = null;
    }
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.index <= this.durable) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
