import { readU32, writeU32 } from './bytes.js';
import { xxh32Range } from './checksum.js';
import { KvError } from './errors.js';
import { isRecordType, KvRecord, RecordType } from './record.js';
import { copyBytes } from './slab.js';

/*
 * Binary record codec. Wire format: see ../FORMAT.md. Every constant here is part of the
 * on-disk format; changing one breaks every file ever written.
 */
export const RECORD_FORMAT_VERSION = 1;
export const RECORD_HEADER_BYTES = 32;
/** Seed of the record checksum ("kvRE"), so a record is never mistaken for another structure. */
export const RECORD_CHECKSUM_SEED = 0x6b765245;
const FLAG_TOMBSTONE = 0x01;
const KNOWN_FLAGS = FLAG_TOMBSTONE;
const TWO_32 = 2 ** 32;
/** Largest high word of a u64 that still fits a safe integer (2^53 - 1). */
const MAX_SAFE_HIGH = 0x1fffff;

export interface RecordLimits {
  /** Largest key in bytes. Default 65,536 (64 KiB). */
  readonly maxKeyBytes: number;
  /** Largest value in bytes. Default 16,777,216 (16 MiB). */
  readonly maxValueBytes: number;
}

export const DEFAULT_RECORD_LIMITS: RecordLimits = Object.freeze({
  maxKeyBytes: 64 * 1024,
  maxValueBytes: 16 * 1024 * 1024,
});

export interface DecodedRecord {
  record: KvRecord;
  /** Bytes the record occupied, header included. */
  size: number;
}

export function encodedSize(rec: KvRecord): number {
  return RECORD_HEADER_BYTES + rec.key.length + rec.value.length;
}

/** Throws KV_TOO_LARGE when `rec` exceeds `limits`; writes nothing. */
export function checkRecordLimits(rec: KvRecord, limits: RecordLimits = DEFAULT_RECORD_LIMITS): void {
  if (rec.key.length > limits.maxKeyBytes) {
    throw new KvError(
      'KV_TOO_LARGE',
      `key is ${rec.key.length} bytes, over the limit of ${limits.maxKeyBytes}; use a shorter key or raise maxKeyBytes`,
    );
  }
  if (rec.value.length > limits.maxValueBytes) {
    throw new KvError(
      'KV_TOO_LARGE',
      `value is ${rec.value.length} bytes, over the limit of ${limits.maxValueBytes}; split it or raise maxValueBytes`,
    );
  }
}

/**
 * Writes `rec` at `offset` of `target` and returns the bytes written. The caller has checked
 * limits and made room for `encodedSize(rec)` bytes.
 */
export function encodeRecordInto(rec: KvRecord, target: Uint8Array, offset: number): number {
  const keyLen = rec.key.length;
  const valueLen = rec.value.length;
  const size = RECORD_HEADER_BYTES + keyLen + valueLen;
  if (offset < 0 || offset + size > target.length) {
    throw new RangeError(`a record of ${size} bytes does not fit at ${offset} of ${target.length}`);
  }
  // Byte by byte rather than through a DataView: no object per record on the write path.
  target[offset + 4] = RECORD_FORMAT_VERSION;
  target[offset + 5] = rec.type;
  target[offset + 6] = rec.tombstone ? FLAG_TOMBSTONE : 0;
  target[offset + 7] = 0;
  writeU32(target, offset + 8, rec.seq % TWO_32);
  writeU32(target, offset + 12, Math.floor(rec.seq / TWO_32));
  writeU32(target, offset + 16, rec.timestamp % TWO_32);
  writeU32(target, offset + 20, Math.floor(rec.timestamp / TWO_32));
  writeU32(target, offset + 24, keyLen);
  writeU32(target, offset + 28, valueLen);
  target.set(rec.key, offset + RECORD_HEADER_BYTES);
  target.set(rec.value, offset + RECORD_HEADER_BYTES + keyLen);
  writeU32(target, offset, xxh32Range(target, offset + 4, offset + size, RECORD_CHECKSUM_SEED));
  return size;
}

export function encodeRecord(rec: KvRecord, limits: RecordLimits = DEFAULT_RECORD_LIMITS): Uint8Array {
  checkRecordLimits(rec, limits);
  const out = new Uint8Array(encodedSize(rec));
  encodeRecordInto(rec, out, 0);
  return out;
}

function corrupt(offset: number, reason: string): KvError {
  return new KvError('KV_CORRUPTION', `corrupt record at offset ${offset}: ${reason}`);
}

export interface DecodeOptions {
  /** Verify the record checksum. Default true; false only when an outer checksum covered these bytes. */
  verify?: boolean;
  /** Bytes past this offset are not part of the input. Default: the end of `bytes`. */
  end?: number;
  /**
   * Default true: the key and value are copies. false: they are views of `bytes`, valid for as
   * long as those bytes are, for a caller that copies them at once (WAL replay into a memtable).
   */
  copy?: boolean;
}

/**
 * The header of one encoded record, as `readRecordHeader` found it. Reused between calls by
 * callers that decode many records (no object per record).
 */
export class RecordHeader {
  seq = 0;
  timestamp = 0;
  type: RecordType = RecordType.Plain;
  tombstone = false;
  /** Offset of the key in the bytes read; the value follows it. */
  keyStart = 0;
  keyLength = 0;
  valueLength = 0;
  /** Bytes of the whole record, header included. */
  size = 0;
  /** The checksum stored in the record (of its bytes after the checksum word). */
  checksum = 0;
}

/**
 * Reads and checks the header of the record at `offset` into `out`: version, type, flags,
 * seq and timestamp range, lengths against `limits` and against `end` (where the input
 * stops). It does not verify the checksum. Corrupt input is KV_CORRUPTION with the offset and
 * the reason; nothing is allocated otherwise.
 */
export function readRecordHeader(
  bytes: Uint8Array,
  offset: number,
  end: number,
  limits: RecordLimits,
  out: RecordHeader,
): RecordHeader {
  const available = end - offset;
  if (available < RECORD_HEADER_BYTES) {
    throw corrupt(offset, `${available} bytes left, a record header needs ${RECORD_HEADER_BYTES}`);
  }
  const version = bytes[offset + 4] as number;
  if (version !== RECORD_FORMAT_VERSION) throw corrupt(offset, `unknown format version ${version}`);
  const type = bytes[offset + 5] as number;
  if (!isRecordType(type)) throw corrupt(offset, `unknown record type ${type}`);
  const flags = bytes[offset + 6] as number;
  if ((flags & ~KNOWN_FLAGS) !== 0 || bytes[offset + 7] !== 0) {
    throw corrupt(offset, `unknown flag bits 0x${flags.toString(16)}`);
  }
  const seqHigh = readU32(bytes, offset + 12);
  const tsHigh = readU32(bytes, offset + 20);
  if (seqHigh > MAX_SAFE_HIGH || tsHigh > MAX_SAFE_HIGH) {
    throw corrupt(offset, 'sequence number or timestamp beyond 2^53');
  }
  const keyLen = readU32(bytes, offset + 24);
  const valueLen = readU32(bytes, offset + 28);
  if (keyLen > limits.maxKeyBytes) throw corrupt(offset, `key length ${keyLen} over the limit ${limits.maxKeyBytes}`);
  if (valueLen > limits.maxValueBytes) {
    throw corrupt(offset, `value length ${valueLen} over the limit ${limits.maxValueBytes}`);
  }
  const size = RECORD_HEADER_BYTES + keyLen + valueLen;
  if (size > available) throw corrupt(offset, `record of ${size} bytes runs past the end (${available} left)`);
  const tombstone = (flags & FLAG_TOMBSTONE) !== 0;
  if (tombstone && valueLen !== 0) throw corrupt(offset, 'tombstone with a value');
  out.seq = seqHigh * TWO_32 + readU32(bytes, offset + 8);
  out.timestamp = tsHigh * TWO_32 + readU32(bytes, offset + 16);
  out.type = type;
  out.tombstone = tombstone;
  out.keyStart = offset + RECORD_HEADER_BYTES;
  out.keyLength = keyLen;
  out.valueLength = valueLen;
  out.size = size;
  out.checksum = readU32(bytes, offset);
  return out;
}

/** True when the checksum stored in the record at `offset` (header read into `h`) matches its bytes. */
export function recordChecksumOk(bytes: Uint8Array, offset: number, h: RecordHeader): boolean {
  return xxh32Range(bytes, offset + 4, offset + h.size, RECORD_CHECKSUM_SEED) === h.checksum;
}

const scratchHeader = new RecordHeader();

/**
 * Decodes the record at `offset` of `bytes`. Lengths are bounded by `limits` and by the bytes
 * present before anything is allocated, and the checksum is verified before the record is
 * built, so corrupt input yields KV_CORRUPTION (with the offset and reason) and nothing else.
 * The returned key and value are copies (`bytes` may be reused afterwards), unless
 * `options.copy` is false.
 */
export function decodeRecord(
  bytes: Uint8Array,
  offset = 0,
  limits: RecordLimits = DEFAULT_RECORD_LIMITS,
  options?: DecodeOptions,
): DecodedRecord {
  const h = readRecordHeader(bytes, offset, options?.end ?? bytes.length, limits, scratchHeader);
  if (options?.verify !== false && !recordChecksumOk(bytes, offset, h)) {
    const computed = xxh32Range(bytes, offset + 4, offset + h.size, RECORD_CHECKSUM_SEED);
    throw corrupt(
      offset,
      `checksum mismatch (stored 0x${h.checksum.toString(16)}, computed 0x${computed.toString(16)})`,
    );
  }
  const keyStart = h.keyStart;
  const keyEnd = keyStart + h.keyLength;
  const valueEnd = keyEnd + h.valueLength;
  const copy = options?.copy !== false;
  const record = KvRecord.trusted(
    copy ? copyBytes(bytes, keyStart, keyEnd) : new Uint8Array(bytes.buffer, bytes.byteOffset + keyStart, h.keyLength),
    copy ? copyBytes(bytes, keyEnd, valueEnd) : new Uint8Array(bytes.buffer, bytes.byteOffset + keyEnd, h.valueLength),
    h.tombstone,
    h.timestamp,
    h.seq,
    h.type,
  );
  return { record, size: h.size };
}
