import { KvRecord, RecordType, xxh32 } from '@kv/record';
import { ByteBuffer, compareAt, readU32, varintBytes, writeU32, writeVarint } from './bytes.js';
import {
  BLOCK_CHECKSUM_SEED,
  BLOCK_TRAILER_BYTES,
  corruption,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  META_TOMBSTONE,
} from './format.js';
import { hex } from './filter.js';

/*
 * Data blocks (FORMAT.md, "Data block"): entries, then a u32 offset per entry, the entry
 * count and an xxHash32 checksum. Entries are self-contained, so the offsets array gives a
 * binary search over any block without decoding it front to back.
 *
 *   entry := keyLen varint | key | meta u8 | valueLen varint | seq varint | timestamp varint | value
 */

/** Encoded bytes of `rec` as a block entry, its offset slot excluded. */
export function entryBytes(rec: KvRecord): number {
  const k = rec.key.length;
  const v = rec.value.length;
  return varintBytes(k) + k + 1 + varintBytes(v) + varintBytes(rec.seq) + varintBytes(rec.timestamp) + v;
}

export class BlockBuilder {
  readonly #buf: ByteBuffer;
  readonly #offsets = new ByteBuffer(1024);
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
    return this.#buf.length + entry + (this.count + 1) * 4 + BLOCK_TRAILER_BYTES;
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
    p += rec.key.length;
    b[p++] = (rec.type << 1) | (rec.tombstone ? META_TOMBSTONE : 0);
    p = writeVarint(b, p, rec.value.length);
    p = writeVarint(b, p, rec.seq);
    p = writeVarint(b, p, rec.timestamp);
    b.set(rec.value, p);
    buf.length = start + size;
    this.#offsets.appendU32(start);
    this.count++;
  }

  /**
   * Seals the block and returns its bytes. The bytes, and `keys()`, stay valid until `reset()`.
   */
  finish(): Uint8Array {
    const buf = this.#buf;
    buf.append(this.#offsets.view());
    buf.appendU32(this.count);
    buf.appendU32(0);
    const out = buf.view();
    writeU32(out, out.length - 4, xxh32(out.subarray(0, out.length - 4), BLOCK_CHECKSUM_SEED));
    return out;
  }

  /** The builder's bytes, where firstKeyPos and lastKeyPos point. */
  keys(): Uint8Array {
    return this.#buf.bytes;
  }

  reset(): void {
    this.#buf.reset();
    this.#offsets.reset();
    this.count = 0;
  }
}

/**
 * One data block inside a table's bytes, trailer checked. Entry offsets and lengths are
 * bounds-checked as they are read, so even bytes that pass the checksum cannot make a
 * lookup read outside the block or allocate more than the block holds.
 */
export class BlockView {
  readonly count: number;
  readonly #bytes: Uint8Array;
  readonly #start: number;
  /** Where the offsets array starts: the end of the entries. */
  readonly #limit: number;
  readonly #path: string;
  /** Scratch cursor of the last varint read; lookups are synchronous, so one per view is safe. */
  #pos = 0;

  constructor(bytes: Uint8Array, start: number, length: number, path: string, verify: boolean) {
    const end = start + length;
    if (verify) {
      const stored = readU32(bytes, end - 4);
      const computed = xxh32(bytes.subarray(start, end - 4), BLOCK_CHECKSUM_SEED);
      if (stored !== computed) {
        throw corruption(path, start, `data block checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
      }
    }
    const count = readU32(bytes, end - BLOCK_TRAILER_BYTES);
    if (count === 0 || count > (length - BLOCK_TRAILER_BYTES) / 4) {
      throw corruption(path, end - BLOCK_TRAILER_BYTES, `data block entry count ${count} does not fit ${length} bytes`);
    }
    this.count = count;
    this.#bytes = bytes;
    this.#start = start;
    this.#limit = end - BLOCK_TRAILER_BYTES - count * 4;
    this.#path = path;
  }

  /** Index of the entry whose key equals `key`, or -1. */
  find(key: Uint8Array): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compare(mid, key);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  /** Index of the first entry with key >= `key` (`inclusive`) or > `key`; `count` if none. */
  seek(key: Uint8Array, inclusive: boolean): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compare(mid, key);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Bytewise comparison of entry `i`'s key with `key`. */
  compare(i: number, key: Uint8Array): number {
    const keyAt = this.#keyAt(i);
    return compareAt(this.#bytes, keyAt, this.#pos - keyAt, key);
  }

  /** Entry `i` as a new KvRecord; its key and value are copies. */
  record(i: number): KvRecord {
    const b = this.#bytes;
    const keyAt = this.#keyAt(i);
    const keyEnd = this.#pos;
    let p = keyEnd;
    if (p >= this.#limit) throw this.#corrupt(p, 'entry ends before its meta byte');
    const meta = b[p] as number;
    const type = meta >>> 1;
    if (!(type in RecordType)) throw this.#corrupt(p, `unknown record type ${type}`);
    const tombstone = (meta & META_TOMBSTONE) !== 0;
    const valueLen = this.#varint(p + 1, MAX_VALUE_BYTES, 'value length');
    if (tombstone && valueLen !== 0) throw this.#corrupt(p, 'tombstone with a value');
    const seq = this.#varint(this.#pos, Number.MAX_SAFE_INTEGER, 'sequence number');
    const timestamp = this.#varint(this.#pos, Number.MAX_SAFE_INTEGER, 'timestamp');
    p = this.#pos;
    if (valueLen > this.#limit - p) throw this.#corrupt(p, `value of ${valueLen} bytes runs past the block`);
    return new KvRecord({
      key: b.slice(keyAt, keyEnd),
      value: b.slice(p, p + valueLen),
      tombstone,
      seq,
      timestamp,
      type: type as RecordType,
    });
  }

  /** Absolute position of entry `i`'s key; leaves #pos at the end of the key. */
  #keyAt(i: number): number {
    const at = this.#start + readU32(this.#bytes, this.#limit + 4 * i);
    if (at >= this.#limit) throw this.#corrupt(this.#limit + 4 * i, `entry offset ${at - this.#start} past the entries`);
    const len = this.#varint(at, MAX_KEY_BYTES, 'key length');
    const keyAt = this.#pos;
    if (len > this.#limit - keyAt) throw this.#corrupt(at, `key of ${len} bytes runs past the block`);
    this.#pos = keyAt + len;
    return keyAt;
  }

  /** Reads the varint at `p` (at most `max`), leaving #pos after it. */
  #varint(p: number, max: number, what: string): number {
    const b = this.#bytes;
    const limit = this.#limit;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (p + i >= limit) break;
      const byte = b[p + i] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > max) throw this.#corrupt(p, `${what} ${value} over the limit ${max}`);
        this.#pos = p + i + 1;
        return value;
      }
      scale *= 128;
    }
    throw this.#corrupt(p, `${what} is not a valid varint`);
  }

  #corrupt(at: number, reason: string) {
    return corruption(this.#path, at, reason);
  }
}
