import { describe } from '@kv/record';

/**
 * Keys live in the memtable as latin1 ("binary") strings: one UTF-16 code unit per byte,
 * with the same value as the byte. JavaScript compares strings code unit by code unit and
 * ranks a proper prefix first, which is exactly memcmp order on the bytes. So the tree
 * orders keys bytewise with plain `<`, and a `Map` can answer point reads by the same
 * string, without any byte comparator.
 */

/** Below this length a `fromCharCode` call beats building a Buffer view (measured on Node 20). */
const SHORT_KEY_BYTES = 32;

/** The latin1 string of `bytes`; equal strings iff equal bytes, `<` iff bytewise less. */
export function keyString(bytes: Uint8Array): string {
  if (bytes.length <= SHORT_KEY_BYTES) {
    // A typed array is array-like, which is all `apply` needs; the result is a flat string.
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Total order over key strings, equal to `compareBytes` over the keys they came from. */
export function compareKeyStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Throws the TypeError of kv when `key` is not bytes; the engine converts strings first. */
export function checkKey(key: unknown, what = 'key'): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array, got ${describe(key)}`);
}
