import {
  checkRecordLimits,
  decodeRecord,
  encodedSize,
  encodeRecordInto,
  KvError,
  KvRecord,
  type RecordLimits,
  type RecordType,
} from '@kv/record';
import { CODEC_IDS, type CodecId } from './format.js';

/** How entries are encoded inside frames; chosen per segment and recorded in its header. */
export interface EntryCodec {
  readonly id: CodecId;
  sizeOf(rec: KvRecord): number;
  writeInto(rec: KvRecord, buf: Uint8Array, at: number): void;
  /**
   * `verify`: check the entry's own checksum too (the frame's was checked when it was read or
   * written). `views`: the key and value may be views of `buf` instead of copies.
   */
  read(buf: Uint8Array, at: number, length: number, limits: RecordLimits, verify?: boolean, views?: boolean): KvRecord;
}

const binaryCodec: EntryCodec = {
  id: CODEC_IDS.binary,
  sizeOf: encodedSize,
  writeInto(rec, buf, at) {
    encodeRecordInto(rec, buf, at);
  },
  read(buf, at, length, limits, verify = false, views = false) {
    const { record, size } = decodeRecord(buf, at, limits, { verify, end: at + length, copy: !views });
    if (size !== length)
      throw new KvError('KV_CORRUPTION', `entry at offset ${at}: ${size} bytes decoded, ${length} framed`);
    return record;
  },
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A byte string as JSON: text when it is valid UTF-8, otherwise base64 under a `64` key. */
function bytesToJson(bytes: Uint8Array): string | { b64: string } {
  try {
    return utf8.decode(bytes);
  } catch {
    return { b64: Buffer.from(bytes).toString('base64') };
  }
}

function jsonToBytes(v: unknown, at: number): Uint8Array {
  if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'utf8'));
  if (v !== null && typeof v === 'object' && typeof (v as { b64?: unknown }).b64 === 'string') {
    return new Uint8Array(Buffer.from((v as { b64: string }).b64, 'base64'));
  }
  throw new KvError('KV_CORRUPTION', `JSON entry at offset ${at}: key or value is neither text nor { b64 }`);
}

/** Human-readable entries: one JSON object per entry, e.g. {"seq":1,"key":"a","value":"b"}. */
function createJsonCodec(): EntryCodec {
  let lastRec: KvRecord | undefined;
  let lastBytes = new Uint8Array(0);
  const encode = (rec: KvRecord): Uint8Array => {
    if (rec !== lastRec) {
      const doc = {
        seq: rec.seq,
        ts: rec.timestamp,
        type: rec.type,
        ...(rec.tombstone ? { tombstone: true } : {}),
        key: bytesToJson(rec.key),
        ...(rec.tombstone ? {} : { value: bytesToJson(rec.value) }),
      };
      lastBytes = Buffer.from(JSON.stringify(doc), 'utf8');
      lastRec = rec;
    }
    return lastBytes;
  };
  return {
    id: CODEC_IDS.json,
    sizeOf: (rec) => encode(rec).length,
    writeInto(rec, buf, at) {
      buf.set(encode(rec), at);
    },
    read(buf, at, length, limits) {
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + at, length).toString('utf8'));
      } catch (err) {
        throw new KvError('KV_CORRUPTION', `JSON entry at offset ${at} does not parse`, { cause: err });
      }
      try {
        const rec = new KvRecord({
          key: jsonToBytes(doc.key, at),
          ...(doc.tombstone === true ? { tombstone: true } : { value: jsonToBytes(doc.value, at) }),
          seq: doc.seq as number,
          timestamp: doc.ts as number,
          type: doc.type as RecordType,
        });
        checkRecordLimits(rec, limits);
        return rec;
      } catch (err) {
        if (err instanceof KvError && err.code === 'KV_CORRUPTION') throw err;
        throw new KvError('KV_CORRUPTION', `JSON entry at offset ${at} is not a valid record`, { cause: err });
      }
    },
  };
}

export function codecFor(id: CodecId): EntryCodec {
  return id === CODEC_IDS.json ? createJsonCodec() : binaryCodec;
}
