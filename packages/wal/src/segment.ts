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

/** A reusable heap buffer for encoding one frame (appends are serialized). */
function scratch(bytes: number): Uint8Array {
  if (scratchBuf.length < bytes) scratchBuf = new Uint8Array(Math.max(bytes, scratchBuf.length * 2));
  return scratchBuf;
}

export function segmentFileName(name: string, id: number): string {
  return `${name}-${String(id).padStart(20, '0')}.log`;
}

/**
 * One segment file, memory-mapped for its whole preallocated length. Entries are appended by
 * copying into the mapping; `offsets` locates every entry's length prefix for reads by index.
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
   * the page cache (the mapping sees it); without, it is encoded in the mapping itself. The
   * entries become readable only once the frame is complete; a throw registers nothing.
   */
  writeFrame(
    records: readonly KvRecord[],
    sizes: readonly number[],
    frameBytes: number,
    writeSync?: (fd: number, data: Uint8Array, position: number) => void,
  ): number {
    const at = this.writeOffset;
    const first = this.lastIndex + 1;
    // Encode at `base` of `buf`: the frame's own offset in the mapping, or 0 of the scratch.
    const direct = writeSync === undefined;
    const buf = direct ? this.bytes : scratch(frameBytes);
    const view = direct ? this.view : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const base = direct ? at : 0;
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
    if (!direct) writeSync(this.fd, buf.subarray(0, frameBytes), at);
    for (const e of entryAt) this.offsets.push(e);
    this.writeOffset = at + frameBytes;
    this.count += records.length;
    return first;
  }

  /** Drops the entries after `index` from this segment's view (the file is superseded on disk). */
  truncateAfter(index: number): void {
    const keep = Math.max(0, index - this.firstIndex + 1);
    this.offsets.truncate(keep);
    this.count = Math.min(this.count, keep);
  }

  read(index: number, limits: RecordLimits, verify = false): KvRecord {
    const p = this.offsets.at(index - this.firstIndex);
    const len = this.view.getUint32(p, true);
    try {
      return this.codec.read(this.bytes, p + ENTRY_PREFIX_BYTES, len, limits, verify);
    } catch (err) {
      if (err instanceof KvError) {
        throw new KvError('KV_CORRUPTION', `WAL segment ${this.file}, entry ${index}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  readAll(limits: RecordLimits): KvRecord[] {
    const out: KvRecord[] = [];
    for (let i = this.firstIndex; i <= this.lastIndex; i++) out.push(this.read(i, limits));
    return out;
  }
}
