import xxhash from 'xxhash-wasm';

/**
 * xxHash32 of every checksummed byte range in kv's files. The wasm module is instantiated
 * once, when this module is first imported (top-level await), so callers hash synchronously.
 */
const hasher = await xxhash();

export function xxh32(bytes: Uint8Array, seed = 0): number {
  return hasher.h32Raw(bytes, seed) >>> 0;
}

/** xxHash64 as a bigint, for bloom-filter indexes where 32 bits of hash are too few. */
export function xxh64(bytes: Uint8Array, seed = 0n): bigint {
  return hasher.h64Raw(bytes, seed);
}
