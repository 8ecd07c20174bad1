import { dirname } from 'node:path';
import { ioError, KvError, type KvRecord } from '@kv/record';
import { nodeTableFs, type TableFile, type TableFs } from './fs.js';
import { TableBuilder, type TableInfo } from './table-builder.js';

export interface TableWriteOptions {
  /** Target size of a data block in bytes, in [64, 16 MiB]. A record larger than this gets a block of its own. Default 4096. */
  blockBytes?: number;
  /** Bloom-filter bits per key, in [1, 64]; 10 gives about 1% false positives. Default 10. */
  bloomBitsPerKey?: number;
  /**
   * An upper bound on the number of records, for a caller that knows one (a compaction: the sum
   * of its inputs' counts). A non-negative safe integer, or Infinity for none. Default Infinity.
   *
   * Given a bound, the bloom filter is sized for that many keys before the first record and each
   * key's bits are set as it arrives: no 8 bytes of hashes per key held until the end (8-16 MB
   * per million keys). The filter is sized for `maxKeys`, not the actual count, so it is as large
   * as `maxKeys` needs (`maxKeys · bloomBitsPerKey / 8` bytes, allocated up front) and a table
   * that ends up much smaller than its bound (under a quarter, say) carries a filter several
   * times larger than it needs, with fewer false positives. With exactly `maxKeys` records the
   * filter is byte for byte the one written without a bound. One record more than `maxKeys` is
   * a caller bug: KV_INVALID_ARGUMENT, and nothing is left on disk.
   */
  maxKeys?: number;
  /** File-system seam. Default: the real file system. */
  fs?: TableFs;
}

export const DEFAULT_TABLE_WRITE_OPTIONS: Readonly<Required<TableWriteOptions>> = Object.freeze({
  blockBytes: 4096,
  bloomBitsPerKey: 10,
  maxKeys: Number.POSITIVE_INFINITY,
  fs: nodeTableFs,
});

/** Encoded bytes gathered before one write call. */
const WRITE_CHUNK_BYTES = 256 * 1024;

/**
 * Writes `records` as a table at `path`: strictly ascending by key (compareBytes), one version
 * per key; an empty input makes a valid empty table. The bytes go to `${path}.tmp`, which is
 * fsynced, closed and renamed to `path`, and then the directory is fsynced: once the promise
 * resolves the table is durable, and a crash at any point leaves either no file at `path` or
 * the whole table. Records are encoded as they arrive (memory: one block, the index and the
 * filter, plus 8 bytes per key of filter hashes unless `maxKeys` bounds the count).
 *
 * Errors: TypeError for a malformed argument or record; KV_INVALID_ARGUMENT for keys out of
 * order or repeated, an option out of range or more records than `maxKeys`; KV_TOO_LARGE for
 * an oversized record or table, KV_IO_ERROR when the file system fails; an error thrown by
 * `records` itself passes through. On any error nothing new is left at `path` and the
 * temporary file is removed (when the file system lets us).
 */
export async function writeTable(
  path: string,
  records: Iterable<KvRecord> | AsyncIterable<KvRecord>,
  options: TableWriteOptions = {},
): Promise<TableInfo> {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (!isIterable(records) && !isAsyncIterable(records)) {
    throw new TypeError('records must be an iterable or async iterable of KvRecord');
  }
  const opts = resolveWriteOptions(options);
  const fs = opts.fs;
  const tmp = `${path}.tmp`;
  let file: TableFile;
  try {
    file = await fs.open(tmp, 'write');
  } catch (err) {
    throw ioError(`creating table file ${tmp}`, err);
  }
  let info: TableInfo;
  try {
    info = await writeAll(file, records, opts, tmp);
    await attempt(`syncing table file ${tmp}`, () => file.fsync());
  } catch (err) {
    await file.close().catch(() => {});
    await removeQuietly(fs, tmp);
    throw err;
  }
  try {
    await attempt(`closing table file ${tmp}`, () => file.close());
    await attempt(`renaming ${tmp} to ${path}`, () => fs.rename(tmp, path));
  } catch (err) {
    await removeQuietly(fs, tmp);
    throw err;
  }
  try {
    await attempt(`syncing the directory of ${path}`, () => fs.fsyncDir(dirname(path)));
  } catch (err) {
    // The rename may not survive a crash; a table we report as failed must not stay behind.
    await removeQuietly(fs, path);
    throw err;
  }
  info.path = path;
  return info;
}

async function writeAll(
  file: TableFile,
  records: Iterable<KvRecord> | AsyncIterable<KvRecord>,
  opts: Required<TableWriteOptions>,
  tmp: string,
): Promise<TableInfo> {
  const builder = new TableBuilder(opts.blockBytes, opts.bloomBitsPerKey, opts.maxKeys, WRITE_CHUNK_BYTES);
  let position = 0;
  const drain = async (): Promise<void> => {
    for (const bytes of builder.takePending()) {
      await attempt(`writing table file ${tmp}`, () => file.write(bytes, position));
      position += bytes.length;
    }
  };
  if (isIterable(records)) {
    for (const rec of records) {
      builder.add(rec);
      if (builder.pendingBytes >= WRITE_CHUNK_BYTES) await drain();
    }
  } else {
    for await (const rec of records) {
      builder.add(rec);
      if (builder.pendingBytes >= WRITE_CHUNK_BYTES) await drain();
    }
  }
  const info = builder.finish();
  await drain();
  return info;
}

function resolveWriteOptions(options: TableWriteOptions): Required<TableWriteOptions> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const blockBytes = options.blockBytes ?? DEFAULT_TABLE_WRITE_OPTIONS.blockBytes;
  const bloomBitsPerKey = options.bloomBitsPerKey ?? DEFAULT_TABLE_WRITE_OPTIONS.bloomBitsPerKey;
  const maxKeys = options.maxKeys ?? DEFAULT_TABLE_WRITE_OPTIONS.maxKeys;
  const fs = options.fs ?? DEFAULT_TABLE_WRITE_OPTIONS.fs;
  if (typeof blockBytes !== 'number' || typeof bloomBitsPerKey !== 'number' || typeof maxKeys !== 'number') {
    throw new TypeError('blockBytes, bloomBitsPerKey and maxKeys must be numbers');
  }
  if (!Number.isInteger(blockBytes) || blockBytes < 64 || blockBytes > 16 * 1024 * 1024) {
    throw new KvError('KV_INVALID_ARGUMENT', `blockBytes must be an integer in [64, 16777216], got ${blockBytes}`);
  }
  if (!(bloomBitsPerKey >= 1 && bloomBitsPerKey <= 64)) {
    throw new KvError('KV_INVALID_ARGUMENT', `bloomBitsPerKey must be in [1, 64], got ${bloomBitsPerKey}`);
  }
  if (!(maxKeys === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxKeys) && maxKeys >= 0))) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      `maxKeys must be a non-negative safe integer or Infinity (no bound), got ${maxKeys}`,
    );
  }
  if (fs === null || typeof fs !== 'object') throw new TypeError('fs must be a TableFs');
  return { blockBytes, bloomBitsPerKey, maxKeys, fs };
}

async function attempt(what: string, op: () => Promise<void>): Promise<void> {
  try {
    await op();
  } catch (err) {
    throw ioError(what, err);
  }
}

async function removeQuietly(fs: TableFs, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch {
    // Already gone, or the file system is failing: the caller reports the original error.
  }
}

function isIterable(x: unknown): x is Iterable<KvRecord> {
  return x !== null && typeof x === 'object' && typeof (x as Iterable<KvRecord>)[Symbol.iterator] === 'function';
}

function isAsyncIterable(x: unknown): x is AsyncIterable<KvRecord> {
  return (
    x !== null && typeof x === 'object' && typeof (x as AsyncIterable<KvRecord>)[Symbol.asyncIterator] === 'function'
  );
}
