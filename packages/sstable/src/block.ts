import { isRecordType, KvRecord, prefix32, type RecordType, xxh32 } from '@kv/record';
import { type ByteSlab, compareAt, readU32 } from './bytes.js';
import {
  BLOCK_CHECKSUM_SEED,
  BLOCK_SLOT_BYTES,
  BLOCK_TRAILER_BYTES,
  corruption,
  ENTRY_CHECKSUM_SEED,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  META_TOMBSTONE,
} from './format.js';
import { hex } from './filter.js';

/*
 * Data blocks (FORMAT.md, "Data block"): entries, then one slot per entry (offset, 4-byte key
 * prefix, entry checksum), the length of the prefix all the block's keys share, the entry count
 * and a checksum of the slots and trailer. A lookup verifies the slots, binary-searches them
 * (the prefixes settle most probes, in a few adjacent cache lines), then verifies and decodes
 * the one entry it lands on: every byte a get trusts is checksummed, and a get hashes ~0.5 KiB
 * rather than the whole block.
 *
 *   entry := keyLen varint | key | meta u8 | valueLen varint | seq varint | timestamp varint | value
 *   slot  := offset u32 | prefix 4 bytes (key bytes [shared, shared + 4), zero-padded)
 *            | checksum u32 (xxHash32 of the entry)
 */

/**
 * One data block inside a table's bytes. `read` verifies the slots and trailer; each entry is
 * verified against its slot's checksum before any of its bytes are used, and every offset and
 * length is bounds-checked, so bad bytes are KV_CORRUPTION, never a wrong answer, an
 * out-of-bounds read or an outsized allocation. Valid while the table's bytes are.
 */
export class BlockView {
  readonly count: number;
  /** Length of the prefix every key in the block starts with. */
  readonly shared: number;
  readonly #bytes: Uint8Array;
  readonly #start: number;
  /** Where the slots start: the end of the entries. */
  readonly #slots: number;
  readonly #path: string;
  /**
   * Optional record of verified entries, kept by a BlockCache across lookups: bit `i % 32` of
   * word `#marksAt + i / 32` is set once entry `i` passed its checksum, for entries below
   * #markable. A marked entry is not hashed again.
   */
  #marks: Int32Array | undefined;
  #marksAt = 0;
  #markable = 0;
  /** The entry verified last, and its absolute end; lookups are synchronous, so one per view is safe. */
  #checked = -1;
  #entryEnd = 0;
  /** Scratch cursor after the last varint or key read. */
  #pos = 0;

  private constructor(bytes: Uint8Array, start: number, length: number, path: string, count: number, shared: number) {
    this.count = count;
    this.shared = shared;
    this.#bytes = bytes;
    this.#start = start;
    this.#slots = start + length - BLOCK_TRAILER_BYTES - count * BLOCK_SLOT_BYTES;
    this.#path = path;
  }

  /** The block at [start, start + length) of `bytes`, its slots and trailer verified. */
  static read(bytes: Uint8Array, start: number, length: number, path: string): BlockView {
    const end = start + length;
    const count = readU32(bytes, end - 8);
    if (count === 0 || count > (length - BLOCK_TRAILER_BYTES) / BLOCK_SLOT_BYTES) {
      throw corruption(path, end - 8, `data block entry count ${count} does not fit its ${length} bytes`);
    }
    const slots = end - BLOCK_TRAILER_BYTES - count * BLOCK_SLOT_BYTES;
    const stored = readU32(bytes, end - 4);
    const computed = xxh32(bytes.subarray(slots, end - 4), BLOCK_CHECKSUM_SEED);
    if (stored !== computed) {
      throw corruption(
        path,
        slots,
        `data block slots checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`,
      );
    }
    const shared = readU32(bytes, end - 12);
    if (shared > MAX_KEY_BYTES)
      throw corruption(path, end - 12, `data block shared prefix ${shared} over the key limit`);
    if (readU32(bytes, slots) !== 0) throw corruption(path, slots, 'first entry does not start the data block');
    return new BlockView(bytes, start, length, path, count, shared);
  }

  /**
   * The same block again without reading its trailer or hashing its slots: `count` and
   * `shared` must be those of a view `read` returned for this very block of this very mapping
   * (the BlockCache's contract). Entries are still verified as they are read.
   */
  static verified(
    bytes: Uint8Array,
    start: number,
    length: number,
    path: string,
    count: number,
    shared: number,
  ): BlockView {
    return new BlockView(bytes, start, length, path, count, shared);
  }

  /**
   * Makes this view skip entries marked verified in `marks` and mark each entry that passes
   * its checksum, for entries below `words * 32`: entry `i` is bit `i % 32` of word
   * `at + i / 32`. The marks must stay this block's for as long as the view is used.
   */
  useMarks(marks: Int32Array, at: number, words: number): void {
    this.#marks = marks;
    this.#marksAt = at;
    this.#markable = words * 32;
  }

  /**
   * Index of the entry whose key equals `key`, or -1. Probes compare the slots' key prefixes
   * and read an entry only on a tie; the answer is always confirmed against the full key.
   */
  find(key: Uint8Array): number {
    const shared = this.shared;
    if (key.length < shared) return -1;
    const kp = prefix32(key, shared, key.length - shared);
    const b = this.#bytes;
    const slots = this.#slots;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const sp = prefix32(b, slots + mid * BLOCK_SLOT_BYTES + 4, 4);
      if (sp < kp || (sp === kp && this.compare(mid, key) < 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count && this.compare(lo, key) === 0 ? lo : -1;
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

  /**
   * Entry `i` as a new KvRecord; its key and value are copies made by `slab`, or with no slab,
   * views of the block's bytes.
   */
  record(i: number, slab: ByteSlab | null): KvRecord {
    const keyAt = this.#keyAt(i);
    const keyEnd = this.#pos;
    const meta = this.#meta(keyEnd);
    const p = this.#pos;
    const end = this.#entryEnd;
    const b = this.#bytes;
    return new KvRecord({
      key: slab === null ? b.subarray(keyAt, keyEnd) : slab.copy(b, keyAt, keyEnd),
      value: slab === null ? b.subarray(p, end) : slab.copy(b, p, end),
      tombstone: (meta & META_TOMBSTONE) !== 0,
      seq: this.#seq,
      timestamp: this.#timestamp,
      type: (meta >>> 1) as RecordType,
    });
  }

  /**
   * Entry `i`'s value as a copy made by `slab`, or null when the entry is a tombstone:
   * what a get needs, verified as `record` verifies it, without building a record.
   */
  value(i: number, slab: ByteSlab): Uint8Array | null {
    this.#keyAt(i);
    const meta = this.#meta(this.#pos);
    return (meta & META_TOMBSTONE) !== 0 ? null : slab.copy(this.#bytes, this.#pos, this.#entryEnd);
  }

  #seq = 0;
  #timestamp = 0;

  /**
   * Decodes and checks what follows the key ending at `keyEnd`: meta byte, value length, seq
   * and timestamp (into #seq, #timestamp); leaves #pos at the value. Returns the meta byte.
   */
  #meta(keyEnd: number): number {
    const b = this.#bytes;
    const end = this.#entryEnd;
    if (keyEnd >= end) throw this.#corrupt(keyEnd, 'entry ends before its meta byte');
    const meta = b[keyEnd] as number;
    const type = meta >>> 1;
    if (!isRecordType(type)) throw this.#corrupt(keyEnd, `unknown record type ${type}`);
    const tombstone = (meta & META_TOMBSTONE) !== 0;
    const valueLen = this.#varint(keyEnd + 1, end, MAX_VALUE_BYTES, 'value length');
    if (tombstone && valueLen !== 0) throw this.#corrupt(keyEnd, 'tombstone with a value');
    this.#seq = this.#varint(this.#pos, end, Number.MAX_SAFE_INTEGER, 'sequence number');
    this.#timestamp = this.#varint(this.#pos, end, Number.MAX_SAFE_INTEGER, 'timestamp');
    const p = this.#pos;
    if (valueLen !== end - p) throw this.#corrupt(p, `value of ${valueLen} bytes does not fill the ${end - p} left`);
    return meta;
  }

  /** Verifies entry `i` and returns where its key starts, leaving #pos at the key's end. */
  #keyAt(i: number): number {
    const b = this.#bytes;
    const slot = this.#slots + i * BLOCK_SLOT_BYTES;
    const at = this.#start + readU32(b, slot);
    if (i !== this.#checked) {
      const end = i + 1 < this.count ? this.#start + readU32(b, slot + BLOCK_SLOT_BYTES) : this.#slots;
      if (at >= end || end > this.#slots) {
        throw this.#corrupt(slot, `entry ${i} spans [${at - this.#start}, ${end - this.#start}), outside the entries`);
      }
      const marks = this.#marks;
      const word = this.#marksAt + (i >>> 5);
      const bit = 1 << (i & 31);
      if (marks === undefined || i >= this.#markable || ((marks[word] as number) & bit) === 0) {
        const stored = readU32(b, slot + 8);
        const computed = xxh32(b.subarray(at, end), ENTRY_CHECKSUM_SEED);
        if (stored !== computed) {
          throw this.#corrupt(at, `entry ${i} checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
        }
        if (marks !== undefined && i < this.#markable) marks[word] = (marks[word] as number) | bit;
      }
      this.#checked = i;
      this.#entryEnd = end;
    }
    const end = this.#entryEnd;
    const len = this.#varint(at, end, MAX_KEY_BYTES, 'key length');
    const keyAt = this.#pos;
    if (len > end - keyAt) throw this.#corrupt(at, `key of ${len} bytes runs past its entry`);
    this.#pos = keyAt + len;
    return keyAt;
  }

  /** Reads the varint at `p`, below `end` and at most `max`, leaving #pos after it. */
  #varint(p: number, end: number, max: number, what: string): number {
    const b = this.#bytes;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8 && p + i < end; i++) {
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
