import { describe, KvError } from '@kv/record';

export interface RateLimit {
  /** Tokens a client may spend in a burst. */
  capacity: number;
  /** Tokens added back per second. */
  refillPerSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Most clients tracked at once; full buckets are forgotten first (they hold no state). */
const MAX_CLIENTS = 100_000;

/**
 * Token buckets per client id. Each operation spends one token (a batch one per operation);
 * an empty bucket is KV_RATE_LIMITED with the wait until a token is back — never a
 * misleading "not found".
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(readonly limit: RateLimit) {
    for (const k of ['capacity', 'refillPerSecond'] as const) {
      const v = limit[k];
      if (typeof v !== 'number') throw new TypeError(`rateLimit.${k} must be a number, got ${describe(v)}`);
      if (!(v > 0) || !Number.isFinite(v))
        throw new KvError('KV_INVALID_ARGUMENT', `rateLimit.${k} must be > 0, got ${v}`);
    }
  }

  take(client: string, tokens = 1): void {
    const now = performance.now();
    let b = this.buckets.get(client);
    if (b === undefined) {
      if (this.buckets.size >= MAX_CLIENTS) this.forgetFull(now);
      b = { tokens: this.limit.capacity, at: now };
      this.buckets.set(client, b);
    }
    b.tokens = Math.min(this.limit.capacity, b.tokens + ((now - b.at) / 1000) * this.limit.refillPerSecond);
    b.at = now;
    if (b.tokens < tokens) {
      const waitMs = Math.ceil(((tokens - b.tokens) / this.limit.refillPerSecond) * 1000);
      throw new KvError(
        'KV_RATE_LIMITED',
        `client "${client}" is over its rate limit (${this.limit.capacity} burst, ${this.limit.refillPerSecond}/s); retry in ${waitMs} ms`,
      );
    }
    b.tokens -= tokens;
  }

  private forgetFull(now: number): void {
    for (const [id, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.limit.refillPerSecond >= this.limit.capacity) this.buckets.delete(id);
    }
  }
}
