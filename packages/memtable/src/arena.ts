import { copyBytes, KvError, KvRecord, type RecordType } from '@kv/record';
import { keyString } from './key-string.js';
import { zeroedBuffer } from './large.js';

/** Bytes of one arena chunk; a record larger than this gets a chunk of its own size. */
export const ARENA_CHUNK_BYTES = 1 << 20;

const TOMBSTONE = 1;

/** The flags byte of a version: its record type and whether it is a tombstone. */
export function recordFlags(type: RecordType, tombstone: boolean): number {
  return (type << 1) | (tombstone ? TOMBSTONE : 0);
}

/**
 * Every record version a memtable stores, in byte chunks and typed arrays, with no object per
 * record: the GC sees a few dozen arrays however many records there are. A record is an id,
 * its position in append order; ids never move and the bytes behind them never change, so an
 * id stays valid for as long as the arena is referenced (snapshots hold ids of versions the
 * memtable has since replaced).
 *
 * Replaying a large WAL into object-per-record memtables spent most of its time in GC: ~300
 * bytes of heap objects per record (the record, two views, a key string, a Map slot) that all
 * survived into the old generation.
 */
export class RecordArena {
  readonly #chunks: Uint8Array[];
  /** The chunk being filled by copies, and its number. */
  #chunk: Uint8Array;
  #chunkIndex = 0;
  #used = 0;
  /** The chunk adopted last, and its number. */
  #adopted: Uint8Array | undefined;
  #adoptedIndex = -1;
  #count = 0;
  #capacity = 0;
  /**
   * 32 bytes of fields per version, together so that reading a version touches one cache
   * line: as doubles, [seq, timestamp, -, -]; as 32-bit words, [.., .., .., .., chunk | flags
   * << 24, offset, keyLength, valueLength].
   */
  #f64 = new Float64Array(0);
  #u32 = new Uint32Array(0);

  constructor(firstChunkBytes = 64 * 1024) {
    // Small at first: a store keeps an empty active memtable, and short-lived ones are common.
    this.#chunk = new Uint8Array(firstChunkBytes);
    this.#chunks = [this.#chunk];
  }

  /** Versions stored, replaced ones included. */
  get count(): number {
    return this.#count;
  }

  /** Copies `rec` in and returns its id. */
  append(rec: KvRecord): number {
    const key = rec.key;
    const value = rec.value;
    const at = this.#reserve(key.length + value.length);
    this.#chunk.set(key, at);
    this.#chunk.set(value, at + key.length);
    return this.appendAt(
      this.#chunkIndex,
      at,
      key.length,
      value.length,
      rec.seq,
      rec.timestamp,
      recordFlags(rec.type, rec.tombstone),
    );
  }

  /**
   * Copies a version whose key (`keyLength` bytes) and value (`valueLength` bytes) lie one
   * after the other at `start` of `bytes`, as in an encoded record; returns its id.
   * `flags` is `recordFlags(type, tombstone)`.
   */
  appendCopy(
    bytes: Uint8Array,
    start: number,
    keyLength: number,
    valueLength: number,
    seq: number,
    timestamp: number,
    flags: number,
  ): number {
    const n = keyLength + valueLength;
    const at = this.#reserve(n);
    const chunk = this.#chunk;
    // A short copy by hand beats creating the subarray that set() needs.
    if (n <= 64) for (let i = 0; i < n; i++) chunk[at + i] = bytes[start + i] as number;
    else chunk.set(bytes.subarray(start, start + n), at);
    return this.appendAt(this.#chunkIndex, at, keyLength, valueLength, seq, timestamp, flags);
  }

  /**
   * Makes `bytes` a chunk of the arena without copying it, and returns its number for
   * `appendAt`: the arena reads it and never writes it. The caller guarantees that its
   * bytes never change while the arena lives (WAL replay adopts the log's mapped segments).
   * Adopting the chunk adopted last returns the same number.
   */
  adopt(bytes: Uint8Array): number {
    if (this.#adopted !== bytes) {
      this.#adopted = bytes;
      this.#adoptedIndex = this.#chunks.length;
      this.#chunks.push(bytes);
      this.#checkChunks();
    }
    return this.#adoptedIndex;
  }

  /** Room for `bytes` in the current chunk (a new one when they do not fit): where they go. */
  #reserve(bytes: number): number {
    if (this.#used + bytes > this.#chunk.length) this.#newChunk(bytes);
    const at = this.#used;
    this.#used = at + bytes;
    return at;
  }

  /**
   * Records a version whose key and value lie one after the other at `at` of chunk `chunk`
   * (an adopted one, or bytes the arena has just copied in); returns its id.
   */
  appendAt(
    chunk: number,
    at: number,
    keyLength: number,
    valueLength: number,
    seq: number,
    timestamp: number,
    flags: number,
  ): number {
    const id = this.#count;
    if (id === this.#capacity) this.#grow();
    const f = id * 4;
    this.#f64[f] = seq;
    this.#f64[f + 1] = timestamp;
    const w = id * 8 + 4;
    this.#u32[w] = chunk | (flags << 24);
    this.#u32[w + 1] = at;
    this.#u32[w + 2] = keyLength;
    this.#u32[w + 3] = valueLength;
    this.#count = id + 1;
    return id;
  }

  /** A record whose key and value are views of the arena's bytes (never written again). */
  record(id: number): KvRecord {
    const w = id * 8 + 4;
    const word = this.#u32[w] as number;
    const chunk = this.#chunks[word & 0xffffff] as Uint8Array;
    const at = chunk.byteOffset + (this.#u32[w + 1] as number);
    const keyLength = this.#u32[w + 2] as number;
    const flags = word >>> 24;
    return KvRecord.trusted(
      new Uint8Array(chunk.buffer, at, keyLength),
      new Uint8Array(chunk.buffer, at + keyLength, this.#u32[w + 3] as number),
      (flags & TOMBSTONE) !== 0,
      this.#f64[id * 4 + 1] as number,
      this.#f64[id * 4] as number,
      (flags >>> 1) as RecordType,
    );
  }

  /** A copy of version `id`'s value (slab-backed, see copyBytes), or null for a tombstone. */
  valueCopy(id: number): Uint8Array | null {
    const w = id * 8 + 4;
    if ((((this.#u32[w] as number) >>> 24) & TOMBSTONE) !== 0) return null;
    const at = (this.#u32[w + 1] as number) + (this.#u32[w + 2] as number);
    return copyBytes(this.#chunkAt(w), at, at + (this.#u32[w + 3] as number));
  }

  /** The key of version `id`, a view of the arena's bytes. */
  key(id: number): Uint8Array {
    const w = id * 8 + 4;
    const chunk = this.#chunkAt(w);
    return new Uint8Array(chunk.buffer, chunk.byteOffset + (this.#u32[w + 1] as number), this.#u32[w + 2] as number);
  }

  seq(id: number): number {
    return this.#f64[id * 4] as number;
  }

  keyLength(id: number): number {
    return this.#u32[id * 8 + 6] as number;
  }

  /** Key plus value bytes of one version. */
  dataBytes(id: number): number {
    return (this.#u32[id * 8 + 6] as number) + (this.#u32[id * 8 + 7] as number);
  }

  /** True when version `id`'s key is exactly the `length` bytes at `start` of `bytes`. */
  keyEquals(id: number, bytes: Uint8Array, start: number, length: number): boolean {
    const w = id * 8 + 4;
    if (this.#u32[w + 2] !== length) return false;
    const chunk = this.#chunkAt(w);
    const at = (this.#u32[w + 1] as number) - start;
    for (let i = start; i < start + length; i++) if (chunk[at + i] !== bytes[i]) return false;
    return true;
  }

  /** Bytewise order of the keys of two versions (memcmp, then the shorter first). */
  compareKeys(a: number, b: number): number {
    const wa = a * 8 + 4;
    const wb = b * 8 + 4;
    const ca = this.#chunkAt(wa);
    const cb = this.#chunkAt(wb);
    const oa = this.#u32[wa + 1] as number;
    const ob = this.#u32[wb + 1] as number;
    const na = this.#u32[wa + 2] as number;
    const nb = this.#u32[wb + 2] as number;
    const n = Math.min(na, nb);
    for (let i = 0; i < n; i++) {
      const d = (ca[oa + i] as number) - (cb[ob + i] as number);
      if (d !== 0) return d;
    }
    return na - nb;
  }

  /** Bytewise order of version `id`'s key against `key`. */
  compareKey(id: number, key: Uint8Array): number {
    const w = id * 8 + 4;
    const chunk = this.#chunkAt(w);
    const at = this.#u32[w + 1] as number;
    const len = this.#u32[w + 2] as number;
    const n = Math.min(len, key.length);
    for (let i = 0; i < n; i++) {
      const d = (chunk[at + i] as number) - (key[i] as number);
      if (d !== 0) return d;
    }
    return len - key.length;
  }

  /**
   * Three key bytes of version `id` from byte `from` on, as a 24-bit number (big-endian, zero
   * past the key's end): sorting by such digits orders keys bytewise, except keys that differ
   * only in trailing zero bytes, which need compareKeys.
   */
  bytes3(id: number, from: number): number {
    const w = id * 8 + 4;
    const chunk = this.#chunkAt(w);
    const at = (this.#u32[w + 1] as number) + from;
    const left = (this.#u32[w + 2] as number) - from;
    if (left >= 3) return ((chunk[at] as number) << 16) | ((chunk[at + 1] as number) << 8) | (chunk[at + 2] as number);
    if (left === 2) return ((chunk[at] as number) << 16) | ((chunk[at + 1] as number) << 8);
    if (left === 1) return (chunk[at] as number) << 16;
    return 0;
  }

  /** The key of version `id` as a latin1 string (see key-string.ts). */
  keyString(id: number): string {
    return keyString(this.key(id));
  }

  #chunkAt(w: number): Uint8Array {
    return this.#chunks[(this.#u32[w] as number) & 0xffffff] as Uint8Array;
  }

  #newChunk(bytes: number): void {
    // Chunks double up to ARENA_CHUNK_BYTES, so small memtables stay small.
    this.#chunk = new Uint8Array(Math.max(bytes, Math.min(ARENA_CHUNK_BYTES, this.#chunk.length * 2)));
    this.#chunkIndex = this.#chunks.length;
    this.#chunks.push(this.#chunk);
    this.#used = 0;
    this.#checkChunks();
  }

  #checkChunks(): void {
    if (this.#chunks.length > 0xffffff) {
      throw new KvError('KV_INVALID_ARGUMENT', 'a memtable holds at most 16M arena chunks; lower thresholdBytes');
    }
  }

  /** Makes room for `versions` versions in all, so that appends up to there never grow the fields. */
  reserve(versions: number): void {
    if (versions > this.#capacity) this.#grow(versions);
  }

  #grow(capacity = Math.max(1024, this.#capacity * 2)): void {
    const f64 = new Float64Array(zeroedBuffer(capacity * 32));
    const u32 = new Uint32Array(f64.buffer);
    u32.set(this.#u32); // as words: copying doubles could rewrite bit patterns that read as NaN
    this.#f64 = f64;
    this.#u32 = u32;
    this.#capacity = capacity;
  }
}
