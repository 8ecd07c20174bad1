import { type KvRecord, xxh32 } from '@kv/record';
import { ByteBuffer, varintBytes, writeU32, writeVarint } from './bytes.js';
import {
  BLOCK_CHECKSUM_SEED,
  BLOCK_SLOT_BYTES,
  BLOCK_TRAILER_BYTES,
  ENTRY_CHECKSUM_SEED,
  META_TOMBSTONE,
} from './format.js';

/*
 * Encodes data blocks; the layout is described in block.ts and FORMAT.md ("Data block").
 */

/** Encoded bytes of `rec` as a block entry, its slot excluded. */
export function entryBytes(rec: KvRecord): number {
  const k = rec.key.length;
  const v = rec.value.length;
  return varintBytes(k) + k + 1 + varintBytes(v) + varintBytes(rec.seq) + varintBytes(rec.timestamp) + v;
}

export class BlockBuilder {
  readonly #buf: ByteBuffer;
  /** Per entry: offset, key position, key length. */
  #entries = new Uint32Array(3 * 64);
  count = 0;
  firstKeyPos = 0;
  firstKeyLen = 0;
  lastKeyPos = 0;
  lastKeyLen = 0;

  constructor(capacity: number) {
    this.#buf = new ByteBuffer(capacity);
  }

  /** Size of the finished block if an entry of `entry` bytes were added now. */
  sizeWith(entry: number): number {
    return this.#buf.length + entry + (this.count + 1) * BLOCK_SLOT_BYTES + BLOCK_TRAILER_BYTES;
  }

  /** Appends `rec`, whose encoded size is `size`; order and limits were checked by the caller. */
  add(rec: KvRecord, size: number): void {
    const buf = this.#buf;
    const start = buf.reserve(size);
    const b = buf.bytes;
    let p = writeVarint(b, start, rec.key.length);
    b.set(rec.key, p);
    if (this.count === 0) {
      this.firstKeyPos = p;
      this.firstKeyLen = rec.key.length;
    }
    this.lastKeyPos = p;
    this.lastKeyLen = rec.key.length;
    if (3 * this.count + 3 > this.#entries.length) {
      const next = new Uint32Array(this.#entries.length * 2);
      next.set(this.#entries);
      this.#entries = next;
    }
    const e = this.#entries;
    e[3 * this.count] = start;
    e[3 * this.count + 1] = p;
    e[3 * this.count + 2] = rec.key.length;
    p += rec.key.length;
    b[p++] = (rec.type << 1) | (rec.tombstone ? META_TOMBSTONE : 0);
    p = writeVarint(b, p, rec.value.length);
    p = writeVarint(b, p, rec.seq);
    p = writeVarint(b, p, rec.timestamp);
    b.set(rec.value, p);
    buf.length = start + size;
    this.count++;
  }

  /**
   * Seals the block and returns its bytes. The bytes, and `keys()`, stay valid until `reset()`.
   */
  finish(): Uint8Array {
    const buf = this.#buf;
    const n = this.count;
    const limit = Math.min(this.firstKeyLen, this.lastKeyLen);
    let shared = 0;
    while (shared < limit && buf.bytes[this.firstKeyPos + shared] === buf.bytes[this.lastKeyPos + shared]) shared++;
    const at = buf.reserve(n * BLOCK_SLOT_BYTES + BLOCK_TRAILER_BYTES);
    const b = buf.bytes;
    const e = this.#entries;
    for (let i = 0; i < n; i++) {
      const offset = e[3 * i] as number;
      const next = i + 1 < n ? (e[3 * i + 3] as number) : at;
      const slot = at + i * BLOCK_SLOT_BYTES;
      writeU32(b, slot, offset);
      // The key's next 4 bytes as they are (zero-padded): big-endian, so u32 order is key order.
      const keyPos = (e[3 * i + 1] as number) + shared;
      const keyRest = (e[3 * i + 2] as number) - shared;
      for (let j = 0; j < 4; j++) b[slot + 4 + j] = j < keyRest ? (b[keyPos + j] as number) : 0;
      writeU32(b, slot + 8, xxh32(b.subarray(offset, next), ENTRY_CHECKSUM_SEED));
    }
    const end = at + n * BLOCK_SLOT_BYTES + BLOCK_TRAILER_BYTES;
    writeU32(b, end - 12, shared);
    writeU32(b, end - 8, n);
    writeU32(b, end - 4, xxh32(b.subarray(at, end - 4), BLOCK_CHECKSUM_SEED));
    buf.length = end;
    return buf.view();
  }

  /** The builder's bytes, where firstKeyPos and lastKeyPos point. */
  keys(): Uint8Array {
    return this.#buf.bytes;
  }

  reset(): void {
    this.#buf.reset();
    this.count = 0;
  }
}
