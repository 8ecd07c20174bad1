import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECORD_LIMITS,
  decodeRecord,
  encodeRecord,
  encodeRecordInto,
  isKvError,
  type KvError,
  KvRecord,
  RECORD_HEADER_BYTES,
  RecordHeader,
  RecordType,
  readRecordHeader,
  recordChecksumOk,
} from '@kv/record';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function golden(): KvRecord {
  return new KvRecord({ key: 'Key01', value: 'Val01', seq: 1, timestamp: 1_700_000_000_000 });
}

function expectCorruption(fn: () => unknown, pattern?: RegExp): KvError {
  try {
    fn();
  } catch (err) {
    expect(isKvError(err, 'KV_CORRUPTION')).toBe(true);
    if (pattern) expect((err as Error).message).toMatch(pattern);
    return err as KvError;
  }
  throw new Error('expected KV_CORRUPTION, nothing was thrown');
}

describe('record codec: golden bytes (FORMAT.md worked example)', () => {
  it('encodes the worked example to exactly these bytes', () => {
    expect(hex(encodeRecord(golden()))).toBe(
      'daf415af' +
        '01' +
        '00' +
        '00' +
        '00' +
        '0100000000000000' +
        '0068e5cf8b010000' +
        '05000000' +
        '05000000' +
        '4b65793031' +
        '56616c3031',
    );
  });

  it('encodes a tombstone with flag bit 0 and no value', () => {
    const bytes = encodeRecord(new KvRecord({ key: 'k', tombstone: true, seq: 7, timestamp: 0 }));
    expect(bytes.length).toBe(RECORD_HEADER_BYTES + 1);
    expect(bytes[6]).toBe(1);
    expect(hex(bytes.subarray(24, 32))).toBe('0100000000000000');
  });

  it('stores sequence numbers above 2^32 in two little-endian words', () => {
    const rec = new KvRecord({ key: 'k', seq: 2 ** 40 + 5, timestamp: 0 });
    const bytes = encodeRecord(rec);
    expect(hex(bytes.subarray(8, 16))).toBe('0500000000010000');
    expect(decodeRecord(bytes).record.seq).toBe(2 ** 40 + 5);
  });
});

describe('record codec: round trip', () => {
  const arbRecord = fc
    .record({
      key: fc.uint8Array({ maxLength: 300 }),
      value: fc.uint8Array({ maxLength: 2000 }),
      tombstone: fc.boolean(),
      seq: fc.maxSafeNat(),
      timestamp: fc.maxSafeNat(),
      type: fc.constantFrom(RecordType.Plain, RecordType.HyperLogLog, RecordType.CountMinSketch),
    })
    .map((r) => new KvRecord({ ...r, value: r.tombstone ? new Uint8Array(0) : r.value }));

  it('decodes what it encodes, field by field, at any offset', () => {
    fc.assert(
      fc.property(arbRecord, fc.nat(64), (rec, pad) => {
        const enc = encodeRecord(rec);
        const buf = new Uint8Array(pad + enc.length + 3);
        buf.set(enc, pad);
        const { record, size } = decodeRecord(buf, pad);
        expect(size).toBe(enc.length);
        expect(record).toEqual(rec);
      }),
      { numRuns: 300 },
    );
  });

  it('encodeRecordInto writes the same bytes into a view at an offset, and nothing outside them', () => {
    fc.assert(
      fc.property(arbRecord, fc.nat(40), fc.nat(40), (rec, viewAt, offset) => {
        const enc = encodeRecord(rec);
        const backing = new Uint8Array(viewAt + offset + enc.length + 7).fill(0xee);
        const target = backing.subarray(viewAt);
        expect(encodeRecordInto(rec, target, offset)).toBe(enc.length);
        expect(hex(target.subarray(offset, offset + enc.length))).toBe(hex(enc));
        expect(backing.subarray(0, viewAt + offset).every((b) => b === 0xee)).toBe(true);
        expect(backing.subarray(viewAt + offset + enc.length).every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('encodeRecordInto refuses a record that does not fit, and writes nothing', () => {
    const rec = golden();
    const size = encodeRecord(rec).length;
    const target = new Uint8Array(size + 4).fill(0xee);
    expect(() => encodeRecordInto(rec, target, 5)).toThrow(RangeError);
    expect(() => encodeRecordInto(rec, target, -1)).toThrow(RangeError);
    expect(() => encodeRecordInto(rec, target.subarray(0, size - 1), 0)).toThrow(RangeError);
    expect(target.every((b) => b === 0xee)).toBe(true);
    expect(encodeRecordInto(rec, target, 4)).toBe(size);
  });

  it('returns copies, so the source buffer can be reused', () => {
    const enc = encodeRecord(golden());
    const { record } = decodeRecord(enc);
    enc.fill(0);
    expect(record.valueString()).toBe('Val01');
  });

  it('with copy: false, returns views of the source bytes at the right place', () => {
    const enc = encodeRecord(golden());
    const padded = new Uint8Array(enc.length + 9);
    padded.set(enc, 5);
    const { record, size } = decodeRecord(padded.subarray(2), 3, undefined, { copy: false });
    expect(size).toBe(enc.length);
    expect(record.keyString()).toBe('Key01');
    expect(record.valueString()).toBe('Val01');
    expect(record.key.buffer).toBe(padded.buffer);
    padded.fill(0x41, 5 + RECORD_HEADER_BYTES, 5 + RECORD_HEADER_BYTES + 5);
    expect(record.keyString()).toBe('AAAAA');
  });
});

describe('record codec: readRecordHeader (decoding in place)', () => {
  it('reads the fields decodeRecord decodes, relative to the bytes given, and allocates nothing', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        fc.nat(Number.MAX_SAFE_INTEGER),
        fc.nat(30),
        (key, value, tombstone, seq, pad) => {
          const rec = new KvRecord({
            key,
            value: tombstone ? new Uint8Array(0) : value,
            tombstone,
            seq,
            timestamp: seq % 1e12,
          });
          const enc = encodeRecord(rec);
          const bytes = new Uint8Array(pad + enc.length);
          bytes.set(enc, pad);
          const h = readRecordHeader(bytes, pad, bytes.length, DEFAULT_RECORD_LIMITS, new RecordHeader());
          const { record } = decodeRecord(bytes, pad);
          expect([h.seq, h.timestamp, h.type, h.tombstone, h.size]).toEqual([
            record.seq,
            record.timestamp,
            record.type,
            record.tombstone,
            enc.length,
          ]);
          expect(bytes.subarray(h.keyStart, h.keyStart + h.keyLength)).toEqual(record.key);
          expect(bytes.subarray(h.keyStart + h.keyLength, h.keyStart + h.keyLength + h.valueLength)).toEqual(
            record.value,
          );
          expect(recordChecksumOk(bytes, pad, h)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('checks the header but leaves the checksum to recordChecksumOk', () => {
    const enc = encodeRecord(golden());
    const h = new RecordHeader();
    enc[enc.length - 1] = (enc[enc.length - 1] as number) ^ 1;
    readRecordHeader(enc, 0, enc.length, DEFAULT_RECORD_LIMITS, h);
    expect(recordChecksumOk(enc, 0, h)).toBe(false);
    expectCorruption(
      () => readRecordHeader(enc, 0, enc.length - 1, DEFAULT_RECORD_LIMITS, h),
      /at offset 0: record of 42 bytes runs past the end \(41 left\)/,
    );
    expectCorruption(
      () => readRecordHeader(enc, 0, enc.length, { maxKeyBytes: 4, maxValueBytes: 10 }, h),
      /key length 5/,
    );
  });
});

describe('record codec: corrupt input', () => {
  it('ChecksumMismatch: a flipped payload bit is KV_CORRUPTION naming the offset', () => {
    const enc = encodeRecord(golden());
    enc[enc.length - 1]! ^= 0x01;
    expectCorruption(() => decodeRecord(enc), /offset 0: checksum mismatch/);
  });

  it('TruncatedHeader: fewer bytes than a header', () => {
    expectCorruption(() => decodeRecord(encodeRecord(golden()).subarray(0, 20)), /header needs 32/);
  });

  it('TruncatedBody: a length that runs past the end', () => {
    const enc = encodeRecord(golden());
    expectCorruption(() => decodeRecord(enc.subarray(0, enc.length - 1)), /runs past the end/);
  });

  it('HugeLength: a corrupt 4 GiB length is rejected by the limit before anything is allocated', () => {
    const enc = encodeRecord(golden());
    new DataView(enc.buffer).setUint32(28, 0xffffffff, true);
    expectCorruption(() => decodeRecord(enc), /value length 4294967295 over the limit/);
  });

  it('UnknownVersion, type and flags are each reported', () => {
    for (const [at, value, why] of [
      [4, 9, /unknown format version 9/],
      [5, 77, /unknown record type 77/],
      [6, 0x80, /unknown flag bits/],
    ] as const) {
      const enc = encodeRecord(golden());
      enc[at] = value;
      expectCorruption(() => decodeRecord(enc), why);
    }
  });

  it('never throws anything but KV_CORRUPTION on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeRecord(bytes);
        } catch (err) {
          expect(isKvError(err, 'KV_CORRUPTION')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('every single-bit flip of a valid record is caught (fuzz by mutation)', () => {
    const enc = encodeRecord(new KvRecord({ key: 'some-key', value: 'some value here', seq: 42, timestamp: 99 }));
    for (let bit = 0; bit < enc.length * 8; bit++) {
      const mutated = enc.slice();
      mutated[bit >> 3]! ^= 1 << (bit & 7);
      expectCorruption(() => decodeRecord(mutated));
    }
  });

  it('random mutations and truncations decode or fail with KV_CORRUPTION, never more', () => {
    const enc = encodeRecord(golden());
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(enc.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(enc.length),
        (edits, cut) => {
          const m = enc.slice(0, cut);
          for (const [at, v] of edits) if (at < m.length) m[at] = v;
          try {
            const { record } = decodeRecord(m);
            expect(record.key.length + record.value.length + RECORD_HEADER_BYTES).toBeLessThanOrEqual(m.length);
          } catch (err) {
            expect(isKvError(err, 'KV_CORRUPTION')).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('record limits', () => {
  it('refuses a key over maxKeyBytes with KV_TOO_LARGE', () => {
    const rec = new KvRecord({ key: new Uint8Array(DEFAULT_RECORD_LIMITS.maxKeyBytes + 1) });
    expect(() => encodeRecord(rec)).toThrow(expect.objectContaining({ code: 'KV_TOO_LARGE' }));
  });

  it('honours configured limits on both sides', () => {
    const limits = { maxKeyBytes: 4, maxValueBytes: 4 };
    expect(() => encodeRecord(KvRecord.fromStrings('k', 'too long'), limits)).toThrow(/over the limit of 4/);
    const enc = encodeRecord(KvRecord.fromStrings('k', 'too long'));
    expectCorruption(() => decodeRecord(enc, 0, limits), /value length 8 over the limit 4/);
  });
});

describe('record codec: decoding from a Buffer', () => {
  it('returns plain Uint8Array copies, not views into the Buffer', () => {
    const buf = Buffer.from(encodeRecord(golden()));
    const { record } = decodeRecord(buf);
    expect(Buffer.isBuffer(record.key)).toBe(false);
    buf.fill(0);
    expect(record.keyString()).toBe('Key01');
  });
});
