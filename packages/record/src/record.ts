import { toBytes } from './bytes.js';

/** What a record's value holds. Sketch types keep their serialized sketch as the value. */
export enum RecordType {
  Plain = 0,
  HyperLogLog = 1,
  CountMinSketch = 2,
}

/** How many RecordTypes there are: their values are 0, 1, ... (checked below). */
const RECORD_TYPES = Object.values(RecordType).filter((v) => typeof v === 'number').length;
for (let t = 0; t < RECORD_TYPES; t++) {
  if (!(t in RecordType)) throw new Error(`RecordType values must be 0..${RECORD_TYPES - 1}`);
}

/**
 * True when `t` is a RecordType's value: a range check, for decoders that test every entry
 * (an `in` test on the enum object is a property lookup).
 */
export function isRecordType(t: unknown): t is RecordType {
  return typeof t === 'number' && t >= 0 && t < RECORD_TYPES && Math.floor(t) === t;
}

export interface KvRecordInit {
  key: string | Uint8Array;
  value?: string | Uint8Array;
  tombstone?: boolean;
  /** Wall-clock milliseconds, informational only: versions are ordered by `seq`. Default: now. */
  timestamp?: number;
  /** Sequence number assigned by the writer (the engine). Default: 0. */
  seq?: number;
  type?: RecordType;
}

const EMPTY = new Uint8Array(0);

/**
 * One versioned write: a put (value) or a delete (tombstone, empty value). Instances are
 * plain data; validation of sizes happens in the codec, where limits are known.
 */
export class KvRecord {
  key: Uint8Array;
  value: Uint8Array;
  tombstone: boolean;
  timestamp: number;
  seq: number;
  type: RecordType;

  constructor(init: KvRecordInit) {
    if (init === null || typeof init !== 'object') {
      throw new TypeError('KvRecord needs an object { key, value?, tombstone?, timestamp?, seq?, type? }');
    }
    this.key = toBytes(init.key, 'key');
    this.tombstone = init.tombstone ?? false;
    this.value = init.value === undefined ? EMPTY : toBytes(init.value, 'value');
    this.timestamp = init.timestamp ?? Date.now();
    this.seq = init.seq ?? 0;
    this.type = init.type ?? RecordType.Plain;
    if (typeof this.tombstone !== 'boolean') throw new TypeError('tombstone must be a boolean');
    if (!Number.isSafeInteger(this.seq) || this.seq < 0) {
      throw new TypeError(`seq must be a non-negative safe integer, got ${String(init.seq)}`);
    }
    if (!Number.isSafeInteger(this.timestamp) || this.timestamp < 0) {
      throw new TypeError(`timestamp must be non-negative integer milliseconds, got ${String(init.timestamp)}`);
    }
    if (!isRecordType(this.type)) {
      throw new TypeError(`type must be a RecordType, got ${String(init.type)}`);
    }
    if (this.tombstone && this.value.length > 0) {
      throw new TypeError('a tombstone carries no value');
    }
  }

  /**
   * Builds a record from fields a decoder has already validated, skipping the constructor's
   * checks (the hot path of WAL replay and table reads). Not for user input.
   */
  static trusted(
    key: Uint8Array,
    value: Uint8Array,
    tombstone: boolean,
    timestamp: number,
    seq: number,
    type: RecordType,
  ): KvRecord {
    const r = Object.create(KvRecord.prototype) as KvRecord;
    r.key = key;
    r.tombstone = tombstone;
    r.value = value;
    r.timestamp = timestamp;
    r.seq = seq;
    r.type = type;
    return r;
  }

  static fromStrings(key: string, value: string): KvRecord {
    if (typeof key !== 'string' || typeof value !== 'string') {
      throw new TypeError('KvRecord.fromStrings takes two strings');
    }
    return new KvRecord({ key, value });
  }

  /** A delete marker for `key`. */
  static tombstoneFor(key: string | Uint8Array, seq = 0): KvRecord {
    return new KvRecord({ key, tombstone: true, seq });
  }

  keyString(): string {
    return Buffer.from(this.key.buffer, this.key.byteOffset, this.key.byteLength).toString('utf8');
  }

  valueString(): string {
    return Buffer.from(this.value.buffer, this.value.byteOffset, this.value.byteLength).toString('utf8');
  }
}
