/*
 * Little-endian integers, varints and in-place key comparison over byte arrays. Readers here
 * do no bounds checks: callers check that the bytes are present first.
 */

import { readU32, writeU32 } from '@kv/record';

export { readU32, writeU32 };

const TWO_32 = 2 ** 32;

/** A u64 as a number, or -1 when it does not fit a safe integer. */
export function readU64(b: Uint8Array, p: number): number {
  const high = readU32(b, p + 4);
  return high > 0x1fffff ? -1 : high * TWO_32 + readU32(b, p);
}

export function writeU64(b: Uint8Array, p: number, v: number): void {
  writeU32(b, p, v % TWO_32);
  writeU32(b, p + 4, Math.floor(v / TWO_32));
}

/** Bytes of the unsigned LEB128 encoding of `v` (a non-negative safe integer). */
export function varintBytes(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export function writeVarint(b: Uint8Array, p: number, v: number): number {
  while (v >= 128) {
    b[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}

/**
 * Compares the `len` bytes at `pos` of `buf` with `key` in bytewise order, without copying.
 * The caller has checked that `pos + len <= buf.length`.
 */
export function compareAt(buf: Uint8Array, pos: number, len: number, key: Uint8Array): number {
  const n = Math.min(len, key.length);
  for (let i = 0; i < n; i++) {
    const d = (buf[pos + i] as number) - (key[i] as number);
    if (d !== 0) return d;
  }
  return len - key.length;
}

/** An append-only byte buffer that grows by doubling; `view()` is valid until the next append. */
export class ByteBuffer {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes and returns the offset to write them at. */
  reserve(n: number): number {
    const need = this.length + n;
    if (need > this.bytes.length) {
      const next = new Uint8Array(Math.max(need, this.bytes.length * 2));
      next.set(this.bytes.subarray(0, this.length));
      this.bytes = next;
    }
    return this.length;
  }

  append(src: Uint8Array): void {
    const at = this.reserve(src.length);
    this.bytes.set(src, at);
    this.length += src.length;
  }

  appendU32(v: number): void {
    const at = this.reserve(4);
    writeU32(this.bytes, at, v);
    this.length += 4;
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

/**
 * Copies byte ranges out of a table into small arrays carved from shared 8 KiB slabs, as
 * Node's Buffer pool does: V8 allocates a typed array over 64 bytes off-heap at ~0.3 µs, a
 * view of a slab at ~0.05 µs. Each copy is independent of the file and of every other copy,
 * but copies may share one ArrayBuffer (`.buffer`), which keeps its slab alive.
 */
export class ByteSlab {
  static readonly SLAB_BYTES = 8192;
  /** Larger copies get their own array: the allocation is small next to the copy. */
  static readonly MAX_SLAB_COPY = 1024;
  #slab = new Uint8Array(ByteSlab.SLAB_BYTES);
  #used = 0;

  copy(src: Uint8Array, start: number, end: number): Uint8Array {
    const n = end - start;
    if (n <= 64 || n > ByteSlab.MAX_SLAB_COPY) return src.slice(start, end);
    let at = this.#used;
    if (at + n > ByteSlab.SLAB_BYTES) {
      this.#slab = new Uint8Array(ByteSlab.SLAB_BYTES);
      at = 0;
    }
    const out = this.#slab.subarray(at, at + n);
    out.set(src.subarray(start, end));
    // Keep the next copy 8-byte aligned, as Buffer's pool does.
    this.#used = (at + n + 7) & ~7;
    return out;
  }
}
