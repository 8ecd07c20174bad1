const CHUNK = 64 * 1024;
const ZERO = Buffer.alloc(CHUNK);

/**
 * Offset of the last non-zero byte of `buf` in [from, to), or from - 1 when all are zero.
 * Scans backwards in chunks with native comparisons, so a mostly-empty preallocated segment
 * is checked at memory speed.
 */
export function lastNonZero(buf: Buffer, from: number, to: number): number {
  let end = to;
  while (end > from) {
    const start = Math.max(from, end - CHUNK);
    if (buf.compare(ZERO, 0, end - start, start, end) !== 0) {
      for (let i = end - 1; i >= start; i--) if (buf[i] !== 0) return i;
    }
    end = start;
  }
  return from - 1;
}
