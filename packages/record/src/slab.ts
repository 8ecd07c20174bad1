/*
 * Small byte strings (keys, values) copied into shared 256 KiB slabs. A Uint8Array with its
 * own ArrayBuffer costs V8 an external backing store that every GC must track; a view into a
 * slab is an ordinary heap object. Replaying 300k WAL entries spent 45% of its time in GC
 * before this. The price: a view's `.buffer` is the slab (callers must use the view's own
 * bounds, as for any Uint8Array), and one live view keeps its slab alive.
 */
const SLAB_BYTES = 256 * 1024;
/** Larger copies get their own buffer: they are rare and would waste slab space. */
const MAX_SLABBED = 4096;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** A copy of `src[start, end)` as a plain Uint8Array (slab-backed when small). */
export function copyBytes(src: Uint8Array, start = 0, end = src.length): Uint8Array {
  const n = end - start;
  if (n > MAX_SLABBED) return Uint8Array.prototype.slice.call(new Uint8Array(src.buffer, src.byteOffset + start, n));
  if (used + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  if (n <= 32) for (let i = 0; i < n; i++) out[i] = src[start + i] as number;
  else out.set(start === 0 && end === src.length ? src : src.subarray(start, end));
  // Keep views 8-byte aligned so neighbouring copies never share a cache line needlessly.
  used += (n + 7) & ~7;
  return out;
}

const encoder = new TextEncoder();

/** `text` as UTF-8 bytes (slab-backed when small). */
export function utf8Bytes(text: string): Uint8Array {
  const max = text.length * 3;
  if (max > MAX_SLABBED) return encoder.encode(text);
  if (used + max > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const { written } = encoder.encodeInto(text, slab.subarray(used));
  const out = slab.subarray(used, used + written);
  used += (written + 7) & ~7;
  return out;
}
