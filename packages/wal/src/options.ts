import { DEFAULT_RECORD_LIMITS, describe, KvError, type RecordLimits } from '@kv/record';
import { realFs, type WalFs } from './fs.js';

export type SyncMode = 'always' | 'none';
/**
 * - 'strict' (default): a torn tail of the last segment is cut back to the last good frame;
 *   corruption anywhere else fails the open with KV_CORRUPTION.
 * - 'truncate': at the first corrupt frame anywhere, keep every entry before it and drop every
 *   entry after it (point-in-time recovery). What was dropped is in the recovery report.
 */
export type RecoveryMode = 'strict' | 'truncate';
export type EntryCodecName = 'binary' | 'json';
/**
 * Who checks the frame checksums of sealed segments at open. 'auto' (default): when the sealed
 * segments hold at least 256 MiB and `fs` is the real file system, a worker thread checks them
 * from the last one back while the opening thread works from the first; the opening thread
 * takes the thread's answers that have arrived and never waits for one. 'always': the thread
 * checks every sealed segment and the opening thread waits for each answer (real file system
 * only; for tests). 'never': all on the opening thread.
 */
export type VerifyThreadMode = 'auto' | 'always' | 'never';

export interface WalOptions {
  /** File name prefix: segments are `<name>-<id>.log`. Default 'wal'. */
  name?: string;
  /** A segment rolls over after this many entries. Default Infinity (bytes decide). */
  maxRecordsPerSegment?: number;
  /** Preallocated size of a segment file, 64 KiB to 1 GiB. Default 64 MiB. */
  maxSegmentBytes?: number;
  /** Segment position used by deleteOldSegments(): live segments before it are dropped. Default 0. */
  lowWaterMark?: number;
  /** bufferedAppend() flushes by itself when this many entries are buffered. Default 64. */
  bufferCapacity?: number;
  /** 'always' (default): a write resolves after fdatasync; 'none': after the copy into the mapping. */
  sync?: SyncMode;
  /** What to do with corruption found at open. Default 'strict'. */
  recoveryMode?: RecoveryMode;
  /** Entry codec of new segments: 'binary' (default) or 'json' (human-readable). */
  codec?: EntryCodecName;
  /** Record size limits enforced on append and on read. Default 64 KiB keys, 16 MiB values. */
  limits?: RecordLimits;
  /**
   * Default true: once a segment is a quarter full, the next one is zero-filled and synced in
   * the background, so the append that crosses into it writes only a header instead of
   * waiting for a whole segment of zeros to reach the disk (~90-250 ms for 64 MiB here). An
   * I/O error there fails the log, as the same error at the rollover would.
   */
  prepareNextSegment?: boolean;
  /** File-system seam; tests pass a faulty one. Default: the real file system and mmap. */
  fs?: WalFs;
  /** Whether a worker thread helps verify a large log at open. Default 'auto'. */
  verifyThread?: VerifyThreadMode;
}

export type ResolvedWalOptions = Readonly<Required<WalOptions>>;

export const DEFAULT_WAL_OPTIONS: ResolvedWalOptions = Object.freeze({
  name: 'wal',
  maxRecordsPerSegment: Number.POSITIVE_INFINITY,
  maxSegmentBytes: 64 * 1024 * 1024,
  lowWaterMark: 0,
  bufferCapacity: 64,
  sync: 'always',
  recoveryMode: 'strict',
  codec: 'binary',
  limits: DEFAULT_RECORD_LIMITS,
  prepareNextSegment: true,
  fs: realFs,
  verifyThread: 'auto',
});

const MIN_SEGMENT_BYTES = 64 * 1024;
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;

function invalid(message: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', message);
}

function positiveInteger(name: string, value: unknown, allowInfinity = false): void {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return;
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(`${name} must be a positive integer, got ${value}`);
}

/** Validates `options` against the defaults; never mutates the caller's object. */
export function resolveWalOptions(options: WalOptions = {}): ResolvedWalOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`WAL options must be an object, got ${describe(options)}`);
  }
  const o = { ...DEFAULT_WAL_OPTIONS, ...stripUndefined(options) };
  if (typeof o.name !== 'string') throw new TypeError(`name must be a string, got ${describe(o.name)}`);
  if (!/^[A-Za-z0-9_.]{1,64}$/.test(o.name)) {
    throw invalid(`name "${o.name}" must be 1-64 letters, digits, '_' or '.', with no '-' or path separator`);
  }
  positiveInteger('maxRecordsPerSegment', o.maxRecordsPerSegment, true);
  positiveInteger('maxSegmentBytes', o.maxSegmentBytes);
  if (o.maxSegmentBytes < MIN_SEGMENT_BYTES || o.maxSegmentBytes > MAX_SEGMENT_BYTES) {
    throw invalid(
      `maxSegmentBytes must be between ${MIN_SEGMENT_BYTES} and ${MAX_SEGMENT_BYTES}, got ${o.maxSegmentBytes}`,
    );
  }
  if (typeof o.lowWaterMark !== 'number') throw new TypeError('lowWaterMark must be a number');
  if (!Number.isSafeInteger(o.lowWaterMark) || o.lowWaterMark < 0) {
    throw invalid(`lowWaterMark must be a non-negative integer, got ${o.lowWaterMark}`);
  }
  positiveInteger('bufferCapacity', o.bufferCapacity);
  if (o.sync !== 'always' && o.sync !== 'none') throw invalid(`sync must be 'always' or 'none', got ${String(o.sync)}`);
  if (o.recoveryMode !== 'strict' && o.recoveryMode !== 'truncate') {
    throw invalid(`recoveryMode must be 'strict' or 'truncate', got ${String(o.recoveryMode)}`);
  }
  if (o.codec !== 'binary' && o.codec !== 'json')
    throw invalid(`codec must be 'binary' or 'json', got ${String(o.codec)}`);
  if (typeof o.prepareNextSegment !== 'boolean') {
    throw new TypeError(`prepareNextSegment must be a boolean, got ${describe(o.prepareNextSegment)}`);
  }
  if (o.verifyThread !== 'auto' && o.verifyThread !== 'always' && o.verifyThread !== 'never') {
    throw invalid(`verifyThread must be 'auto', 'always' or 'never', got ${String(o.verifyThread)}`);
  }
  // The thread reads the files themselves, not through a seam that may model another disk.
  if (o.verifyThread === 'always' && o.fs !== realFs) {
    throw invalid("verifyThread 'always' needs the real file system: the thread does not read through fs");
  }
  const limits = o.limits;
  if (limits === null || typeof limits !== 'object') throw new TypeError('limits must be an object');
  positiveInteger('limits.maxKeyBytes', limits.maxKeyBytes);
  positiveInteger('limits.maxValueBytes', limits.maxValueBytes);
  return Object.freeze(o);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
