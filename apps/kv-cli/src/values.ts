/**
 * What the commands share about stored values: checking a write before it is queued, telling
 * a sketch from a plain value, and showing either.
 */
import type { KvStore } from '@kv/engine';
import { checkRecordLimits, DEFAULT_RECORD_LIMITS, KvRecord } from '@kv/record';
import { CliError } from './errors.js';
import { type SketchKind, showBytes, sketchShape, sketchSummary } from './format.js';
import type { Session } from './session.js';

/**
 * Checks a write the way the store will, so a bad one is refused when it is typed, not at
 * `batch commit` or `tx commit` (where it would fail them whole).
 */
export function checkWrite(key: Uint8Array, value?: Uint8Array): void {
  if (key.length === 0) throw new CliError('the key is empty; keys need at least one byte');
  checkRecordLimits(new KvRecord({ key, ...(value === undefined ? {} : { value }) }), DEFAULT_RECORD_LIMITS);
}

const NO_ITEM = new Uint8Array(0);

/**
 * Whether the record under `key` really is a sketch of `kind`. The engine's sketch reads
 * check the record type and refuse any other, so they tell a sketch from a plain value that
 * merely has the same bytes.
 */
function isSketch(store: KvStore, key: Uint8Array, kind: SketchKind): boolean {
  try {
    if (kind === 'HyperLogLog') store.hllCount(key);
    else store.cmsQuery(key, NO_ITEM);
    return true;
  } catch {
    return false;
  }
}

export type ValueKind = 'absent' | 'plain' | SketchKind;

/** What `key` holds as the session sees it: through the open transaction, if any. */
export function storedKind(s: Session, key: Uint8Array): ValueKind {
  const own = s.tx?.own(key);
  if (own !== undefined) return own.value === undefined ? 'absent' : 'plain';
  const value = s.store.get(key);
  if (value === undefined) return 'absent';
  const shape = sketchShape(value);
  return shape !== undefined && isSketch(s.store, key, shape) ? shape : 'plain';
}

/** A stored value for display: a sketch as its summary, anything else binary-safe (showBytes). */
export function showValue(s: Session, key: Uint8Array, value: Uint8Array, max?: number): string {
  const shape = sketchShape(value);
  if (shape !== undefined && s.tx?.own(key) === undefined && isSketch(s.store, key, shape)) {
    return sketchSummary(shape, value.length, s.out.c, max);
  }
  return showBytes(value, s.out.c, max);
}
