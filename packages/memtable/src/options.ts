import { describe, KvError } from '@kv/record';

export interface MemtableOptions {
  /**
   * The memtable reports `isFull` once its `byteSize` reaches this many bytes, and the engine
   * then freezes and flushes it. A positive integer. Default 4 MiB.
   */
  thresholdBytes?: number;
}

export type ResolvedMemtableOptions = Readonly<Required<MemtableOptions>>;

export const DEFAULT_MEMTABLE_OPTIONS: ResolvedMemtableOptions = Object.freeze({
  thresholdBytes: 4 * 1024 * 1024,
});

/** Validates `options` against the defaults; never mutates the caller's object. */
export function resolveMemtableOptions(options: MemtableOptions | undefined): ResolvedMemtableOptions {
  if (options === undefined) return DEFAULT_MEMTABLE_OPTIONS;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Memtable options must be an object, got ${describe(options)}`);
  }
  const thresholdBytes = options.thresholdBytes ?? DEFAULT_MEMTABLE_OPTIONS.thresholdBytes;
  if (typeof thresholdBytes !== 'number') {
    throw new TypeError(`thresholdBytes must be a number, got ${describe(thresholdBytes)}`);
  }
  if (!Number.isSafeInteger(thresholdBytes) || thresholdBytes < 1) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      `thresholdBytes must be a positive integer number of bytes, got ${thresholdBytes}; omit it for 4 MiB`,
    );
  }
  return Object.freeze({ thresholdBytes });
}
