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

  /** Copies `records` into the mapping as one frame; the caller checked `fits(frameBytes)`. */
  writeFrame(records: readonly KvRecord[], sizes: readonly number[], frameBytes: number): number {
    const at = this.writeOffset;
    const first = this.lastIndex + 1;
    let p = at + FRAME_HEADER_BYTES;
    for (let i = 0; i < records.length; i++) {
      const size = sizes[i] as number;
      this.view.setUint32(p, size, true);
      this.codec.writeInto(records[i] as KvRecord, this.map, p + ENTRY_PREFIX_BYTES);
      this.offsets.push(p);
      p += ENTRY_PREFIX_BYTES + size;
    }
    this.map.fill(0, p, at + frameBytes);
    sealFrame(this.map, at, p - at - FRAME_HEADER_BYTES, first, records.length, this.syncedOffset, this.id);
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
