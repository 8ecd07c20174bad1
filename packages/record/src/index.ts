export { bytesEqual, compareBytes, describe, prefix32, readU32, toBytes, writeU32 } from './bytes.js';
export { SHORT_INPUT_BYTES, xxh32, xxh32Js, xxh32Range, xxh32Wasm, xxh64 } from './checksum.js';
export {
  checkRecordLimits,
  type DecodedRecord,
  type DecodeOptions,
  DEFAULT_RECORD_LIMITS,
  decodeRecord,
  encodedSize,
  encodeRecord,
  encodeRecordInto,
  RECORD_CHECKSUM_SEED,
  RECORD_FORMAT_VERSION,
  RECORD_HEADER_BYTES,
  RecordHeader,
  type RecordLimits,
  readRecordHeader,
  recordChecksumOk,
} from './codec.js';
export { ioError, isKvError, KvError, type KvErrorCode } from './errors.js';
export { isRecordType, KvRecord, type KvRecordInit, RecordType } from './record.js';
export { aboveLower, belowUpper, inRange, type KeyRange } from './range.js';
export { copyBytes, utf8Bytes } from './slab.js';
