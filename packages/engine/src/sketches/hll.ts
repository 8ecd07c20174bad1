import { KvError, xxh64 } from '@kv/record';

/*
 * HyperLogLog (Flajolet et al. 2007) with the small-range correction (linear counting).
 * Serialized: "HLL1" | precision p (1 byte) | 2^p registers (1 byte each).
 *
 * Not bloom-filters' HyperLogLog: its update() stores the 0-based position of the leading 1
 * bit, so an empty register and a rank-1 register both read 0; linear counting then counts
 * half the touched registers as empty and 100 distinct items estimate as ~54.
 */
const MAGIC = Uint8Array.of(0x48, 0x4c, 0x4c, 0x31); // "HLL1"
export const DEFAULT_HLL_PRECISION = 12;

export class HyperLogLog {
  readonly registers: Uint8Array;

  constructor(
    readonly precision = DEFAULT_HLL_PRECISION,
    registers?: Uint8Array,
  ) {
    if (!Number.isInteger(precision) || precision < 4 || precision > 16) {
      throw new KvError('KV_INVALID_ARGUMENT', `HyperLogLog precision must be 4..16, got ${precision}`);
    }
    this.registers = registers ?? new Uint8Array(1 << precision);
  }

  /** Standard error of the estimate: 1.04 / sqrt(2^p). */
  get standardError(): number {
    return 1.04 / Math.sqrt(this.registers.length);
  }

  add(item: Uint8Array): void {
    const h = xxh64(item, 0x6b76484cn);
    const p = BigInt(this.precision);
    const index = Number(h >> (64n - p));
    const rest = (h << p) & 0xffff_ffff_ffff_ffffn;
    // rank: position of the leftmost 1 in the remaining 64 - p bits, counting from 1.
    let rank = 1;
    for (let bit = 63n; bit >= p && ((rest >> bit) & 1n) === 0n; bit--) rank++;
    if (rank > (this.registers[index] as number)) this.registers[index] = rank;
  }

  count(): number {
    const m = this.registers.length;
    const alpha = m >= 128 ? 0.7213 / (1 + 1.079 / m) : m === 64 ? 0.709 : m === 32 ? 0.697 : 0.673;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = (alpha * m * m) / sum;
    if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
    return raw;
  }

  serialize(): Uint8Array {
    const out = new Uint8Array(MAGIC.length + 1 + this.registers.length);
    out.set(MAGIC, 0);
    out[MAGIC.length] = this.precision;
    out.set(this.registers, MAGIC.length + 1);
    return out;
  }

  static deserialize(bytes: Uint8Array, key: string): HyperLogLog {
    const bad = () => new KvError('KV_CORRUPTION', `the HyperLogLog stored under ${key} is damaged`);
    if (bytes.length < MAGIC.length + 1 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad();
    const p = bytes[MAGIC.length] as number;
    if (p < 4 || p > 16 || bytes.length !== MAGIC.length + 1 + (1 << p)) throw bad();
    return new HyperLogLog(p, bytes.slice(MAGIC.length + 1));
  }
}
