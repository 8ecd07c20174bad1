import { describe, KvError, KvRecord, RecordType, toBytes } from '@kv/record';
import type { KvTransaction } from '../transaction.js';
import { deserializeCms, newCms, serializeCms } from './cms.js';
import { HyperLogLog } from './hll.js';

export type Item = string | Uint8Array;

function itemBytes(item: unknown, what = 'item'): Uint8Array {
  if (typeof item !== 'string' && !(item instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a string or a Uint8Array, got ${describe(item)}`);
  }
  return toBytes(item);
}

function expectType(rec: KvRecord | undefined, type: RecordType, key: string, what: string): boolean {
  if (rec === undefined || rec.tombstone) return false;
  if (rec.type !== type) {
    throw new KvError('KV_INVALID_ARGUMENT', `${key} holds ${RecordType[rec.type]}, not a ${what}; delete it first`);
  }
  return true;
}

const name = (key: Item) => (typeof key === 'string' ? key : Buffer.from(key).toString('hex'));

export function readHll(rec: KvRecord | undefined, key: Item): HyperLogLog | undefined {
  return expectType(rec, RecordType.HyperLogLog, name(key), 'HyperLogLog')
    ? HyperLogLog.deserialize((rec as KvRecord).value, name(key))
    : undefined;
}

/** Adds items to the HyperLogLog at `key` (created on first use); returns the new estimate. */
export function hllAdd(tx: KvTransaction, key: Item, items: Iterable<Item>): number {
  const k = itemBytes(key, 'key');
  const hll = readHll(tx.getRecord(k), key) ?? new HyperLogLog();
  if (items === null || typeof (items as Iterable<Item>)[Symbol.iterator] !== 'function' || typeof items === 'string') {
    throw new TypeError(`items must be an array (or iterable) of strings or Uint8Arrays, got ${describe(items)}`);
  }
  for (const item of items) hll.add(itemBytes(item));
  tx.putRecord(new KvRecord({ key: k, value: hll.serialize(), type: RecordType.HyperLogLog }));
  return hll.count();
}

export function readCms(rec: KvRecord | undefined, key: Item) {
  return expectType(rec, RecordType.CountMinSketch, name(key), 'Count-Min Sketch')
    ? deserializeCms((rec as KvRecord).value, name(key))
    : undefined;
}

/** Adds `count` occurrences of `item` to the Count-Min Sketch at `key`; returns its new estimate. */
export function cmsAdd(tx: KvTransaction, key: Item, item: Item, count: number): number {
  if (typeof count !== 'number') throw new TypeError(`count must be a number, got ${describe(count)}`);
  if (!Number.isSafeInteger(count) || count < 1)
    throw new KvError('KV_INVALID_ARGUMENT', `count must be a positive integer, got ${count}`);
  const k = itemBytes(key, 'key');
  const cms = readCms(tx.getRecord(k), key) ?? newCms();
  const it = Buffer.from(itemBytes(item)).toString('latin1');
  cms.update(it, count);
  tx.putRecord(new KvRecord({ key: k, value: serializeCms(cms), type: RecordType.CountMinSketch }));
  return cms.count(it);
}

export function cmsCount(rec: KvRecord | undefined, key: Item, item: Item): number {
  const cms = readCms(rec, key);
  return cms === undefined ? 0 : cms.count(Buffer.from(itemBytes(item)).toString('latin1'));
}
