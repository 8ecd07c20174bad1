import { KvError, xxh32 } from '@kv/record';

/*
 * WAL wire format; see ../FORMAT.md. Every constant here is on-disk format.
 */
export const SEGMENT_MAGIC = Uint8Array.of(0x4b, 0x56, 0x57, 0x41, 0x4c, 0x00, 0x0d, 0x0a); // "KVWAL\0\r\n"
export const WAL_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 64;
export const FRAME_HEADER_BYTES = 24;
export const FRAME_ALIGN = 8;
/** Every entry in a frame payload is preceded by its u32 length. */
export const ENTRY_PREFIX_BYTES = 4;
const HEADER_SEED = 0x6b76_5748; // "kvWH"
const FRAME_SEED = 0x6b76_5746; // "kvWF"
const TWO_32 = 2 ** 32;

export const CODEC_IDS = { binary: 0, json: 1 } as const;
export type CodecId = (typeof CODEC_IDS)[keyof typeof CODEC_IDS];

export interface SegmentHeader {
  id: number;
  firstIndex: number;
  codec: CodecId;
  createdAt: number;
  /** Preallocated file size; 0 in segments written before it was recorded (unchecked). */
  segmentBytes: number;
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % TWO_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_32), true);
}

function getU64(view: DataView, at: number): number {
  const high = view.getUint32(at + 4, true);
  // Values beyond 2^53 cannot be ours; report them as NaN so callers treat them as corrupt.
  return high > 0x1fffff ? Number.NaN : high * TWO_32 + view.getUint32(at, true);
}

export function encodeSegmentHeader(h: SegmentHeader): Uint8Array {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(SEGMENT_MAGIC, 0);
  view.setUint16(8, WAL_FORMAT_VERSION, true);
  view.setUint8(10, h.codec);
  setU64(view, 16, h.id);
  setU64(view, 24, h.firstIndex);
  setU64(view, 32, h.createdAt);
  setU64(view, 40, h.segmentBytes);
  view.setUint32(60, xxh32(bytes.subarray(0, 60), HEADER_SEED), true);
  return bytes;
}

export function decodeSegmentHeader(bytes: Uint8Array, file: string): SegmentHeader {
  const bad = (why: string) => new KvError('KV_CORRUPTION', `WAL segment ${file}: header ${why}`);
  if (bytes.length < SEGMENT_HEADER_BYTES) throw bad(`is ${bytes.length} bytes, needs ${SEGMENT_HEADER_BYTES}`);
  for (let i = 0; i < SEGMENT_MAGIC.length; i++)
    if (bytes[i] !== SEGMENT_MAGIC[i]) throw bad('has a wrong magic number');
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (view.getUint32(60, true) !== xxh32(bytes.subarray(0, 60), HEADER_SEED)) throw bad('fails its checksum');
  const version = view.getUint16(8, true);
  if (version !== WAL_FORMAT_VERSION) throw bad(`has unknown format version ${version}`);
  const codec = view.getUint8(10);
  if (codec !== CODEC_IDS.binary && codec !== CODEC_IDS.json) throw bad(`names unknown codec ${codec}`);
  const id = getU64(view, 16);
  const firstIndex = getU64(view, 24);
  if (!(firstIndex >= 1) || !(id >= 1)) throw bad('has an impossible id or first index');
  const segmentBytes = getU64(view, 40);
  if (Number.isNaN(segmentBytes)) throw bad('has an impossible segment size');
  return { id, firstIndex, codec, createdAt: getU64(view, 32), segmentBytes };
}

/** Frame checksums are seeded by the segment id, so a frame copied into another segment fails. */
export function frameSeed(segmentId: number): number {
  return (FRAME_SEED ^ (segmentId % TWO_32)) >>> 0;
}

export function alignFrame(bytes: number): number {
  return (bytes + FRAME_ALIGN - 1) & ~(FRAME_ALIGN - 1);
}

/** Bytes a frame of entries with these encoded sizes occupies, padding included. */
export function frameBytes(entrySizes: readonly number[]): number {
  let payload = 0;
  for (const s of entrySizes) payload += ENTRY_PREFIX_BYTES + s;
  return alignFrame(FRAME_HEADER_BYTES + payload);
}

/**
 * Completes the frame whose payload is already at `at + FRAME_HEADER_BYTES` of `buf`:
 * writes the header and the checksum over header fields and payload.
 */
export function sealFrame(
  buf: Uint8Array,
  at: number,
  payloadBytes: number,
  firstIndex: number,
  count: number,
  syncedThrough: number,
  segmentId: number,
): void {
  const view = new DataView(buf.buffer, buf.byteOffset + at, FRAME_HEADER_BYTES);
  view.setUint32(4, payloadBytes, true);
  setU64(view, 8, firstIndex);
  view.setUint32(16, count, true);
  view.setUint32(20, syncedThrough, true);
  const sum = xxh32(buf.subarray(at + 4, at + FRAME_HEADER_BYTES + payloadBytes), frameSeed(segmentId));
  view.setUint32(0, sum, true);
}

export interface FrameView {
  /** Offset of the frame in the segment. */
  at: number;
  payloadBytes: number;
  firstIndex: number;
  count: number;
  syncedThrough: number;
  /** Offset just past the frame and its padding. */
  end: number;
}

export type FrameProbe = FrameView | 'end' | string;

/**
 * Reads the frame at `at` of a mapped segment without trusting anything the checksum has not
 * covered. Returns the frame, 'end' where an all-zero header marks the end of written data,
 * or a string saying why the bytes there are not a valid frame. `checksum` false skips only
 * the hash, for a frame whose checksum was verified over these same bytes already.
 */
export function probeFrame(seg: Uint8Array, at: number, limit: number, segmentId: number, checksum = true): FrameProbe {
  if (at + FRAME_HEADER_BYTES > limit) return 'end';
  const view = new DataView(seg.buffer, seg.byteOffset + at, FRAME_HEADER_BYTES);
  const sum = view.getUint32(0, true);
  const payloadBytes = view.getUint32(4, true);
  if (sum === 0 && payloadBytes === 0 && view.getUint32(8, true) === 0 && view.getUint32(16, true) === 0) return 'end';
  const count = view.getUint32(16, true);
  const firstIndex = getU64(view, 8);
  if (count === 0 || payloadBytes < count * ENTRY_PREFIX_BYTES) return 'impossible entry count or length';
  if (at + FRAME_HEADER_BYTES + payloadBytes > limit) return `length ${payloadBytes} runs past the segment end`;
  if (Number.isNaN(firstIndex) || firstIndex < 1) return 'impossible index';
  if (checksum) {
    const computed = xxh32(seg.subarray(at + 4, at + FRAME_HEADER_BYTES + payloadBytes), frameSeed(segmentId));
    if (computed !== sum) return 'checksum mismatch';
  }
  return {
    at,
    payloadBytes,
    firstIndex,
    count,
    syncedThrough: view.getUint32(20, true),
    end: at + alignFrame(FRAME_HEADER_BYTES + payloadBytes),
  };
}
