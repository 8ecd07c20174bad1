import type { BenchConfig } from './config.js';
import { fmix32, hashString, Rng } from './rng.js';

const POOL_BYTES = 4 * 1024 * 1024;

/**
 * The keys and values of one workload: key(i) is a fixed function of (seed, i), distinct for
 * every i < 2^32, and scattered so that loading i = 0, 1, 2... inserts in random key order.
 * Values are slices of a seeded random pool, copied so that no two values share memory.
 */
export class DataSet {
  readonly keyBytes: number;
  readonly valueBytes: number;
  private readonly salt: number;
  private readonly pool: Buffer;

  constructor(config: BenchConfig, workload: string) {
    if (config.keyBytes < 8) throw new RangeError(`key size must be at least 8 bytes, got ${config.keyBytes}`);
    this.keyBytes = config.keyBytes;
    this.valueBytes = config.valueBytes;
    this.salt = hashString(`${config.seed}:${workload}`);
    this.pool = Buffer.alloc(POOL_BYTES + config.valueBytes);
    new Rng(this.salt).fill(this.pool);
  }

  /** A fresh buffer holding key i (safe for a store to keep). */
  key(i: number): Buffer {
    return this.writeKey(i, Buffer.allocUnsafe(this.keyBytes));
  }

  /** Writes key i into `out` (a reusable scratch buffer for lookups) and returns it. */
  writeKey(i: number, out: Buffer): Buffer {
    out.writeUInt32BE(fmix32(i ^ this.salt), 0);
    out.writeUInt32BE(i >>> 0, 4);
    let filler = fmix32(i + this.salt);
    for (let p = 8; p < this.keyBytes; p++) {
      out[p] = filler & 0xff;
      filler = p % 4 === 3 ? fmix32(filler + p) : filler >>> 8;
    }
    return out;
  }

  /** A fresh buffer holding value i. */
  value(i: number): Buffer {
    const out = Buffer.allocUnsafe(this.valueBytes);
    const at = fmix32(i ^ 0x5bd1e995 ^ this.salt) % POOL_BYTES;
    this.pool.copy(out, 0, at, at + this.valueBytes);
    return out;
  }

  /** Payload bytes of one entry. */
  get entryBytes(): number {
    return this.keyBytes + this.valueBytes;
  }
}
