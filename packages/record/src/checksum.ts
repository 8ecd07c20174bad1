import xxhash from 'xxhash-wasm';

/**
 * xxHash32 of every checksummed byte range in kv's files. The wasm module is instantiated
 * once, when this module is first imported (top-level await), so callers hash synchronously.
 *
 * Inputs up to SHORT_INPUT_BYTES are hashed in JavaScript (the same function, computed from
 * the published algorithm): for a 16-byte key or a 150-byte entry, copying into the wasm
 * memory and crossing into it cost more than the hash itself.
 */
const hasher = await xxhash();

/** Longest input hashed in JavaScript; longer ones go to the wasm module. */
export const SHORT_INPUT_BYTES = 256;

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function u32le(b: Uint8Array, i: number): number {
  return (
    ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24)) >>> 0
  );
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

/** xxHash32 computed in JavaScript (any length; used for short inputs). */
export function xxh32Js(b: Uint8Array, seed = 0): number {
  return xxh32JsRange(b, 0, b.length, seed);
}

/** xxHash32 in JavaScript of bytes [start, end) of `b`, without a subarray. */
function xxh32JsRange(b: Uint8Array, start: number, end: number, seed: number): number {
  const len = end - start;
  let i = start;
  let acc: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    while (i <= limit) {
      v1 = round(v1, u32le(b, i));
      v2 = round(v2, u32le(b, i + 4));
      v3 = round(v3, u32le(b, i + 8));
      v4 = round(v4, u32le(b, i + 12));
      i += 16;
    }
    acc = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    acc = (seed + P5) | 0;
  }
  acc = (acc + len) | 0;
  for (; i + 4 <= end; i += 4) acc = Math.imul(rotl((acc + Math.imul(u32le(b, i), P3)) | 0, 17), P4);
  for (; i < end; i++) acc = Math.imul(rotl((acc + Math.imul(b[i] as number, P5)) | 0, 11), P1);
  acc ^= acc >>> 15;
  acc = Math.imul(acc, P2);
  acc ^= acc >>> 13;
  acc = Math.imul(acc, P3);
  acc ^= acc >>> 16;
  return acc >>> 0;
}

export function xxh32(bytes: Uint8Array, seed = 0): number {
  return bytes.length <= SHORT_INPUT_BYTES ? xxh32Js(bytes, seed) : hasher.h32Raw(bytes, seed) >>> 0;
}

/**
 * xxHash32 of bytes [start, end) of `bytes`: the same as `xxh32(bytes.subarray(start, end))`
 * without creating the subarray when the range is short (replay hashes every key in place).
 */
export function xxh32Range(bytes: Uint8Array, start: number, end: number, seed = 0): number {
  if (!(start >= 0 && start <= end && end <= bytes.length)) {
    throw new RangeError(`xxh32Range: [${start}, ${end}) is outside [0, ${bytes.length})`);
  }
  return end - start <= SHORT_INPUT_BYTES
    ? xxh32JsRange(bytes, start, end, seed)
    : hasher.h32Raw(bytes.subarray(start, end), seed) >>> 0;
}

/** xxHash32 by the wasm module (any length): the reference `xxh32Js` is tested against. */
export function xxh32Wasm(bytes: Uint8Array, seed = 0): number {
  return hasher.h32Raw(bytes, seed) >>> 0;
}

/** xxHash64 as a bigint, for bloom-filter indexes where 32 bits of hash are too few. */
export function xxh64(bytes: Uint8Array, seed = 0n): bigint {
  return hasher.h64Raw(bytes, seed);
}
