import { KvError, type KvRecord, type RecordLimits } from '@kv/record';
import type { EntryCodec } from './entry-codec.js';
import {
  ENTRY_PREFIX_BYTES,
  FRAME_HEADER_BYTES,
  type FrameView,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  sealFrame,
} from './format.js';
import { OffsetList } from './offsets.js';

let scratchBuf = new Uint8Array(64 * 1024);

/** Frames coalesced for one write are written out early once they reach this many bytes. */
export const COALESCE_LIMIT_BYTES = 1024 * 1024;

/** A reusable heap buffer for encoding one frame (appends are serialized). */
function scratch(bytes: number): Uint8Array {
  if (scratchBuf.length < bytes) scratchBuf = new Uint8Array(Math.max(bytes, scratchBuf.length * 2));
  return scratchBuf;
}

export function segmentFileName(name: string, id: number): string {
  return `${name}-${String(id).padStart(20, '0')}.log`;
}

/**
 * One segment file, memory-mapped for its whole preallocated length. Frames are written into
 * the page cache at their offset (or copied into the mapping when the file-system seam has no
 * writeSync); `offsets` locates every entry's length prefix for reads by index.
 * Contract: the mapping is never touched beyond `map.length`, which never exceeds the file.
 */
export class Segment {
  /** End of the last valid frame: where the next frame goes. */
  writeOffset = SEGMENT_HEADER_BYTES;
  /** Bytes known durable (covered by a completed fdatasync). */
  syncedOffset = SEGMENT_HEADER_BYTES;
  count = 0;
  private readonly offsets = new OffsetList();
  private readonly view: DataView;
  /** The mapping as a plain Uint8Array: slices of it are plain copies, not Buffers. */
  private readonly bytes: Uint8Array;
  /**
   * Frames encoded but not yet written to the file (coalesced writes): they belong at file
   * offset `pendingAt` and are written with one write before the next sync. Entries in them
   * are read from here.
   */
  private pending = new Uint8Array(0);
  private pendingAt = 0;
  private pendingBytes = 0;

  constructor(
    readonly file: string,
    readonly path: string,
    readonly header: SegmentHeader,
    readonly fd: number,
    readonly map: Buffer,
    readonly codec: EntryCodec,
  ) {
    this.view = new DataView(map.buffer, map.byteOffset, map.length);
    this.bytes = new Uint8Array(map.buffer, map.byteOffset, map.length);
  }

  get id(): number {
    return this.header.id;
  }
  get firstIndex(): number {
    return this.header.firstIndex;
  }
  /** firstIndex - 1 while the segment is empty. */
  get lastIndex(): number {
    return this.header.firstIndex + this.count - 1;
  }

  fits(frameBytes: number): boolean {
    return this.writeOffset + frameBytes <= this.map.length;
  }

  /**
   * Registers the entries of a verified frame found at recovery, at most `maxEntries` of them.
   * Returns a reason when the entry lengths inside the payload do not add up.
   */
  adoptFrame(frame: FrameView, maxEntries: number): string | undefined {
    let p = frame.at + FRAME_HEADER_BYTES;
    const end = p + frame.payloadBytes;
    const take = Math.min(frame.count, maxEntries);
    for (let i = 0; i < frame.count; i++) {
      if (p + ENTRY_PREFIX_BYTES > end) return `entry ${i} of ${frame.count} lies past the frame payload`;
      const len = this.view.getUint32(p, true);
      if (p + ENTRY_PREFIX_BYTES + len > end) return `entry ${i} length ${len} runs past the frame payload`;
      if (i < take) this.offsets.push(p);
      p += ENTRY_PREFIX_BYTES + len;
    }
    if (p !== end) return 'frame payload has bytes after its last entry';
    this.count += take;
    this.writeOffset = frame.end;
    return undefined;
  }

  /**
   * Writes `records` as one frame at the end of the segment; the caller checked
   * `fits(frameBytes)`. With `writeSync` the frame is encoded on the heap and written into
   * the page cache (the mapping sees it); with `coalesce` too, it is kept with the frames
   * after it until `flushPending` writes them all at once (sync 'always': nothing is
   * acknowledged before the sync, which flushes first). Without `writeSync` it is encoded in
   * the mapping itself. A throw registers nothing.
   */
  writeFrame(
    records: readonly KvRecord[],
    sizes: readonly number[],
    frameBytes: number,
    writeSync?: (fd: number, data: Uint8Array, position: number) => void,
    coalesce = false,
  ): number {
    const at = this.writeOffset;
    const first = this.lastIndex + 1;
    let buf: Uint8Array;
    let base: number;
    if (writeSync === undefined) {
      buf = this.bytes;
      base = at;
    } else if (coalesce) {
      if (this.pendingBytes > 0 && this.pendingBytes + frameBytes > COALESCE_LIMIT_BYTES) this.flushPending(writeSync);
      if (this.pendingBytes === 0) this.pendingAt = at;
      this.reservePending(this.pendingBytes + frameBytes);
      buf = this.pending;
      base = this.pendingBytes;
    } else {
      buf = scratch(frameBytes);
      base = 0;
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const entryAt: number[] = [];
    let p = base + FRAME_HEADER_BYTES;
    for (let i = 0; i < records.length; i++) {
      const size = sizes[i] as number;
      view.setUint32(p, size, true);
      this.codec.writeInto(records[i] as KvRecord, buf, p + ENTRY_PREFIX_BYTES);
      entryAt.push(at + (p - base));
      p += ENTRY_PREFIX_BYTES + size;
    }
    buf.fill(0, p, base + frameBytes);
    sealFrame(buf, base, p - base - FRAME_HEADER_BYTES, first, records.length, this.syncedOffset, this.id);
    if (writeSync !== undefined) {
      if (coalesce) this.pendingBytes += frameBytes;
      else writeSync(this.fd, buf.subarray(0, frameBytes), at);
    }
    for (const e of entryAt) this.offsets.push(e);
    this.writeOffset = at + frameBytes;
    this.count += records.length;
    return first;
  }

  /** Bytes of coalesced frames not yet written to the file. */
  get pendingLength(): number {
    return this.pendingBytes;
  }

  /** Writes the coalesced frames to the file in one write. On a throw they stay pending. */
  flushPending(writeSync: (fd: number, data: Uint8Array, position: number) => void): void {
    if (this.pendingBytes === 0) return;
    writeSync(this.fd, this.pending.subarray(0, this.pendingBytes), this.pendingAt);
    this.pendingBytes = 0;
  }

  private reservePending(bytes: number): void {
    if (this.pending.length >= bytes) return;
    const grown = new Uint8Array(Math.max(bytes, 64 * 1024, this.pending.length * 2));
    grown.set(this.pending.subarray(0, this.pendingBytes));
    this.pending = grown;
  }

  /** Drops the entries after `index` from this segment's view (the file is superseded on disk). */
  truncateAfter(index: number): void {
    const keep = Math.max(0, index - this.firstIndex + 1);
    this.offsets.truncate(keep);
    this.count = Math.min(this.count, keep);
  }

  read(index: number, limits: RecordLimits, verify = false, views = false): KvRecord {
    let p = this.offsets.at(index - this.firstIndex);
    let src = this.bytes;
    if (this.pendingBytes > 0 && p >= this.pendingAt) {
      src = this.pending;
      p -= this.pendingAt;
    }
    const len =
      ((src[p] as number) | ((src[p + 1] as number) << 8) | ((src[p + 2] as number) << 16)) +
      (src[p + 3] as number) * 0x1000000;
    try {
      return this.codec.read(src, p + ENTRY_PREFIX_BYTES, len, limits, verify, views);
    } catch (err) {
      if (err instanceof KvError) {
        throw new KvError('KV_CORRUPTION', `WAL segment ${this.file}, entry ${index}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Locates entries from `index` on (at most `max`, and none past the segment's last) for
   * `Wal.encodedRuns`: writes each one's [start, end) into `spans` and returns how many, and
   * in `run` the bytes they lie in and whether those are the mapping. A run never mixes the
   * mapping and the coalesced frames not yet written. The entries must be binary-coded.
   */
  fillRun(index: number, max: number, spans: Uint32Array, run: { bytes: Uint8Array; stable: boolean }): number {
    const from = index - this.firstIndex;
    const n = Math.min(max, this.count - from);
    const pendingFrom = this.pendingBytes > 0 ? this.pendingAt : Number.POSITIVE_INFINITY;
    const inPending = this.offsets.at(from) >= pendingFrom;
    const src = inPending ? this.pending : this.bytes;
    const shift = inPending ? this.pendingAt : 0;
    let i = 0;
    for (; i < n; i++) {
      const at = this.offsets.at(from + i);
      if (at >= pendingFrom !== inPending) break;
      const p = at - shift;
      const len =
        ((src[p] as number) | ((src[p + 1] as number) << 8) | ((src[p + 2] as number) << 16)) +
        (src[p + 3] as number) * 0x1000000;
      spans[2 * i] = p + ENTRY_PREFIX_BYTES;
      spans[2 * i + 1] = p + ENTRY_PREFIX_BYTES + len;
    }
    run.bytes = src;
    run.stable = !inPending;
    return i;
  }

  readAll(limits: RecordLimits): KvRecord[] {
    const out: KvRecord[] = [];
    for (let i = this.firstIndex; i <= this.lastIndex; i++) out.push(this.read(i, limits));
    return out;
  }
}
