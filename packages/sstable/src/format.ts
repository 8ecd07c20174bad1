import { KvError } from '@kv/record';

/*
 * Wire-format constants of a kv table file. See ../FORMAT.md. Every value here is part of
 * the on-disk format: changing one breaks every table ever written.
 */

export const TABLE_FORMAT_VERSION = 1;

/** Last 8 bytes of every table: ASCII "kvsstabl". */
export const TABLE_MAGIC = Uint8Array.of(0x6b, 0x76, 0x73, 0x73, 0x74, 0x61, 0x62, 0x6c);

/** Fixed size of the footer at the end of the file, magic included. */
export const FOOTER_BYTES = 72;

/** Checksum seeds, one per structure, so one structure's bytes never verify as another's. */
export const BLOCK_CHECKSUM_SEED = 0x6b764244; // "kvBD"
export const ENTRY_CHECKSUM_SEED = 0x6b76454e; // "kvEN"
export const FILTER_CHECKSUM_SEED = 0x6b764246; // "kvBF"
export const INDEX_CHECKSUM_SEED = 0x6b764249; // "kvBI"
export const FOOTER_CHECKSUM_SEED = 0x6b764654; // "kvFT"

/** Seeds of the two xxHash32 values a key's bloom-filter bit indexes are derived from. */
export const BLOOM_SEED_1 = 0x6b764831; // "kvH1"
export const BLOOM_SEED_2 = 0x6b764832; // "kvH2"

/** A data block ends with the shared-prefix length, the entry count and the checksum (u32 each). */
export const BLOCK_TRAILER_BYTES = 12;
/** Per entry, a data block's slot holds the entry's offset, its key's prefix and its checksum (u32 each). */
export const BLOCK_SLOT_BYTES = 12;
/** The index block ends with the block count and the checksum (u32 each). */
export const INDEX_TRAILER_BYTES = 8;
/** Fixed part of one index entry: offset u64, length u32, first-key length u32, last-key length u32. */
export const INDEX_ENTRY_FIXED_BYTES = 20;
/** Filter header (bit count, k word) plus trailing checksum. */
export const FILTER_OVERHEAD_BYTES = 12;
/** Bit count of a plain filter (tables written before blocked filters): a multiple of 8 from 64. */
export const MIN_FILTER_BITS = 64;
export const MAX_FILTER_BITS = 2 ** 31;
/** Probes per key, the low bits of the k word, for either layout. */
export const MAX_FILTER_HASHES = 30;
/** k word bit 31: the filter is blocked (every key's bits in one block). Clear: the plain layout. */
export const FILTER_BLOCKED_FLAG = 0x80000000;
/** k word bits that must be clear in either layout (reserved for later flags). */
export const FILTER_RESERVED_BITS = 0x7f000000;
/** A blocked filter's block: 512 bits, one 64-byte cache line. Its `m` is a multiple of this. */
export const FILTER_BLOCK_BITS = 512;
/** Odd multiplier (2^32 / golden ratio) that steps a key's in-block probe: x <- x * this mod 2^32. */
export const FILTER_PROBE_MULTIPLIER = 0x9e3779b9;

/** Entry meta byte: bit 0 tombstone, bits 1..7 the RecordType. */
export const META_TOMBSTONE = 0x01;

/** Largest key and value a table holds; the same defaults as @kv/record's codec limits. */
export const MAX_KEY_BYTES = 64 * 1024;
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

/**
 * Largest table file: mmap-io takes sizes as C ints. The writer refuses to grow past this
 * (KV_TOO_LARGE) and the reader treats a larger file as not one of ours.
 */
export const MAX_TABLE_BYTES = 2 ** 31 - 1;

export function corruption(path: string, offset: number, reason: string): KvError {
  return new KvError(
    'KV_CORRUPTION',
    `corrupt table ${path} at offset ${offset}: ${reason}; restore the file from a backup or rebuild it`,
  );
}
