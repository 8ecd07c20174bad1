import { compareBytes } from './bytes.js';

/**
 * Bounds of an ordered read, in bytewise key order. At most one lower bound (gt or gte) and
 * one upper bound (lt or lte) should be given; when both forms are, the stricter one wins.
 */
export interface KeyRange {
  gt?: Uint8Array | undefined;
  gte?: Uint8Array | undefined;
  lt?: Uint8Array | undefined;
  lte?: Uint8Array | undefined;
  /** Descending order. Default false. */
  reverse?: boolean | undefined;
}

/** True when `key` is above the range's lower bound. */
export function aboveLower(key: Uint8Array, range: KeyRange): boolean {
  if (range.gt !== undefined && compareBytes(key, range.gt) <= 0) return false;
  if (range.gte !== undefined && compareBytes(key, range.gte) < 0) return false;
  return true;
}

/** True when `key` is below the range's upper bound. */
export function belowUpper(key: Uint8Array, range: KeyRange): boolean {
  if (range.lt !== undefined && compareBytes(key, range.lt) >= 0) return false;
  if (range.lte !== undefined && compareBytes(key, range.lte) > 0) return false;
  return true;
}

export function inRange(key: Uint8Array, range: KeyRange): boolean {
  return aboveLower(key, range) && belowUpper(key, range);
}
