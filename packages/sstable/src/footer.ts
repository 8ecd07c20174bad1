import { xxh32 } from '@kv/record';
import { readU32, readU64, writeU32, writeU64 } from './bytes.js';
import { corruption, FOOTER_BYTES, FOOTER_CHECKSUM_SEED, TABLE_FORMAT_VERSION, TABLE_MAGIC } from './format.js';
import { hex } from './filter.js';

/*
 * The footer (FORMAT.md, "Footer"): the last 72 bytes of a table. It locates the filter and
 * the index and carries the table's counts and sequence-number range.
 *
 *   0 count u64 | 8 tombstones u64 | 16 minSeq u64 | 24 maxSeq u64 | 32 filterOffset u64
 *   40 indexOffset u64 | 48 filterLength u32 | 52 indexLength u32 | 56 version u32
 *   60 checksum u32 = xxh32([0, 60)) | 64 magic "kvsstabl"
 */

export interface Footer {
  count: number;
  tombstones: number;
  minSeq: number;
  maxSeq: number;
  filterOffset: number;
  indexOffset: number;
  filterLength: number;
  indexLength: number;
}

export function encodeFooter(f: Footer): Uint8Array {
  const b = new Uint8Array(FOOTER_BYTES);
  writeU64(b, 0, f.count);
  writeU64(b, 8, f.tombstones);
  writeU64(b, 16, f.minSeq);
  writeU64(b, 24, f.maxSeq);
  writeU64(b, 32, f.filterOffset);
  writeU64(b, 40, f.indexOffset);
  writeU32(b, 48, f.filterLength);
  writeU32(b, 52, f.indexLength);
  writeU32(b, 56, TABLE_FORMAT_VERSION);
  writeU32(b, 60, xxh32(b.subarray(0, 60), FOOTER_CHECKSUM_SEED));
  b.set(TABLE_MAGIC, 64);
  return b;
}

/**
 * Reads and checks the footer of the `size`-byte table in `bytes`: magic, version, checksum,
 * and that filter and index tile the bytes between the data blocks and the footer exactly.
 */
export function decodeFooter(bytes: Uint8Array, size: number, path: string): Footer {
  const at = size - FOOTER_BYTES;
  for (let i = 0; i < TABLE_MAGIC.length; i++) {
    if (bytes[at + 64 + i] !== TABLE_MAGIC[i]) {
      throw corruption(path, at + 64, 'bad magic: not a kv table, or a table truncated or overwritten at its end');
    }
  }
  const version = readU32(bytes, at + 56);
  const stored = readU32(bytes, at + 60);
  const computed = xxh32(bytes.subarray(at, at + 60), FOOTER_CHECKSUM_SEED);
  if (stored !== computed) {
    throw corruption(path, at, `footer checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
  }
  if (version !== TABLE_FORMAT_VERSION) {
    throw corruption(
      path,
      at + 56,
      `unknown table format version ${version} (this build reads ${TABLE_FORMAT_VERSION})`,
    );
  }
  const f: Footer = {
    count: readU64(bytes, at),
    tombstones: readU64(bytes, at + 8),
    minSeq: readU64(bytes, at + 16),
    maxSeq: readU64(bytes, at + 24),
    filterOffset: readU64(bytes, at + 32),
    indexOffset: readU64(bytes, at + 40),
    filterLength: readU32(bytes, at + 48),
    indexLength: readU32(bytes, at + 52),
  };
  if (f.count < 0 || f.tombstones < 0 || f.tombstones > f.count) {
    throw corruption(path, at, `footer counts out of range (${f.count} entries, ${f.tombstones} tombstones)`);
  }
  if (f.minSeq < 0 || f.maxSeq < 0 || f.minSeq > f.maxSeq) {
    throw corruption(path, at + 16, `footer sequence range [${f.minSeq}, ${f.maxSeq}] out of order`);
  }
  if (f.filterOffset < 0 || f.indexOffset !== f.filterOffset + f.filterLength || f.indexOffset + f.indexLength !== at) {
    throw corruption(
      path,
      at + 32,
      `footer places the filter at ${f.filterOffset} (+${f.filterLength}) and the index at ${f.indexOffset} ` +
        `(+${f.indexLength}); they must end where the footer starts, at ${at}`,
    );
  }
  return f;
}
