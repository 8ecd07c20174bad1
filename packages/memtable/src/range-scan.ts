import { describe, type KeyRange, type KvRecord } from '@kv/record';
import { keyString } from './key-string.js';
import type { RecordArena } from './arena.js';
import type { RecordTree } from './tree.js';

/** A `KeyRange` reduced to at most one bound per side, as key strings and as bytes. */
export interface ScanBounds {
  readonly lower: string | undefined;
  readonly lowerBytes: Uint8Array | undefined;
  readonly lowerInclusive: boolean;
  readonly upper: string | undefined;
  readonly upperBytes: Uint8Array | undefined;
  readonly upperInclusive: boolean;
  readonly reverse: boolean;
}

const UNBOUNDED: ScanBounds = Object.freeze({
  lower: undefined,
  lowerBytes: undefined,
  lowerInclusive: true,
  upper: undefined,
  upperBytes: undefined,
  upperInclusive: true,
  reverse: false,
});

function boundString(range: KeyRange, name: 'gt' | 'gte' | 'lt' | 'lte'): string | undefined {
  const bound = range[name];
  if (bound === undefined) return undefined;
  if (!(bound instanceof Uint8Array)) {
    throw new TypeError(`range.${name} must be a Uint8Array or undefined, got ${describe(bound)}`);
  }
  return keyString(bound);
}

/**
 * Validates `range` and keeps the stricter bound on each side when both forms are given
 * (as `inRange` of @kv/record does), so a scan needs one comparison per side.
 */
export function scanBounds(range: KeyRange | undefined): ScanBounds {
  if (range === undefined) return UNBOUNDED;
  if (range === null || typeof range !== 'object') {
    throw new TypeError(`range must be an object { gt?, gte?, lt?, lte?, reverse? }, got ${describe(range)}`);
  }
  const reverse = range.reverse ?? false;
  if (typeof reverse !== 'boolean') throw new TypeError(`range.reverse must be a boolean, got ${describe(reverse)}`);
  const gt = boundString(range, 'gt');
  const gte = boundString(range, 'gte');
  const lt = boundString(range, 'lt');
  const lte = boundString(range, 'lte');
  // gte b is stricter than gt a only when b > a; lte b is stricter than lt a only when b < a.
  const lowerInclusive = gt === undefined || (gte !== undefined && gte > gt);
  const upperInclusive = lt === undefined || (lte !== undefined && lte < lt);
  return {
    lower: lowerInclusive ? gte : gt,
    lowerBytes: lowerInclusive ? range.gte : range.gt,
    lowerInclusive,
    upper: upperInclusive ? lte : lt,
    upperBytes: upperInclusive ? range.lte : range.lt,
    upperInclusive,
    reverse,
  };
}

/**
 * The records of `tree` (ids in `arena`) within `bounds`, lazily. Starting at a bound is a tree descent,
 * O(log n), not a scan. `tree` must not change while the iterator is in use: callers pass
 * a tree nobody writes to (a clone, or a frozen memtable's tree).
 */
export function scanTree(tree: RecordTree, arena: RecordArena, bounds: ScanBounds): IterableIterator<KvRecord> {
  return bounds.reverse ? scanDescending(tree, arena, bounds) : scanAscending(tree, arena, bounds);
}

function* scanAscending(tree: RecordTree, arena: RecordArena, b: ScanBounds): Generator<KvRecord, void, undefined> {
  // entries() starts at the first key >= lower; an exclusive bound skips that key if present.
  for (const [key, id] of tree.entries(b.lower, [])) {
    if (!b.lowerInclusive && key === b.lower) continue;
    if (b.upper !== undefined && (key > b.upper || (!b.upperInclusive && key === b.upper))) return;
    yield arena.record(id);
  }
}

function* scanDescending(tree: RecordTree, arena: RecordArena, b: ScanBounds): Generator<KvRecord, void, undefined> {
  // entriesReversed() starts at the last key <= upper, and skips upper itself when asked.
  for (const [key, id] of tree.entriesReversed(b.upper, [], !b.upperInclusive)) {
    if (b.lower !== undefined && (key < b.lower || (!b.lowerInclusive && key === b.lower))) return;
    yield arena.record(id);
  }
}
