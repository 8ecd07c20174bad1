const encoder = new TextEncoder();

/** Keys and values are byte strings: strings become UTF-8, Uint8Arrays are used as they are. */
export function toBytes(input: string | Uint8Array, what = 'key'): Uint8Array {
  if (typeof input === 'string') return encoder.encode(input);
  if (input instanceof Uint8Array) return input;
  throw new TypeError(`${what} must be a string or a Uint8Array, got ${describe(input)}`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object (${value.constructor?.name ?? 'Object'})` : typeof value;
}

/** Bytewise (memcmp) order, the order of every sorted structure in kv. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Bytes [at, at + min(len, 4)) of `b` as a big-endian u32, zero-padded. Order-preserving: when
 * two keys' prefixes differ, their keys compare the same way; equal prefixes settle nothing.
 */
export function prefix32(b: Uint8Array, at: number, len: number): number {
  if (len <= 0) return 0;
  if (len >= 4) {
    return (
      (((b[at] as number) << 24) |
        ((b[at + 1] as number) << 16) |
        ((b[at + 2] as number) << 8) |
        (b[at + 3] as number)) >>>
      0
    );
  }
  let v = 0;
  for (let j = 0; j < 4; j++) v = v * 256 + (j < len ? (b[at + j] as number) : 0);
  return v;
}

/** The little-endian u32 at `p` of `b` (no bounds check: the caller checked the bytes are there). */
export function readU32(b: Uint8Array, p: number): number {
  return (
    ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) + (b[p + 3] as number) * 0x1000000
  );
}

/** Writes `v` (an unsigned 32-bit integer) little-endian at `p` of `b`. */
export function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}
