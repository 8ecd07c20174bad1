import { checkRecordLimits, copyBytes, describe, KvError, KvRecord, type RecordLimits, utf8Bytes } from '@kv/record';

export type BatchOperation =
  | { type: 'put'; key: string | Uint8Array; value: string | Uint8Array }
  | { type: 'del'; key: string | Uint8Array };

/** Validates and converts a write to a record (seq 0: assigned when it is logged). */
export function toRecord(key: unknown, value: unknown, tombstone: boolean, limits: RecordLimits): KvRecord {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    throw new TypeError(`key must be a string or a Uint8Array, got ${describe(key)}`);
  }
  if (!tombstone && typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new TypeError(`value must be a string or a Uint8Array, got ${describe(value)}`);
  }
  // Copy caller buffers: the store keeps these bytes, the caller may reuse theirs.
  const k = typeof key === 'string' ? utf8Bytes(key) : copyBytes(key);
  if (k.length === 0) throw new KvError('KV_INVALID_ARGUMENT', 'key must not be empty');
  const rec = tombstone
    ? new KvRecord({ key: k, tombstone: true })
    : new KvRecord({ key: k, value: typeof value === 'string' ? utf8Bytes(value) : copyBytes(value as Uint8Array) });
  checkRecordLimits(rec, limits);
  return rec;
}

export function batchToRecords(ops: unknown, limits: RecordLimits): KvRecord[] {
  if (!Array.isArray(ops)) throw new TypeError(`batch takes an array of operations, got ${describe(ops)}`);
  return ops.map((op: unknown, i) => {
    if (op === null || typeof op !== 'object')
      throw new TypeError(`batch[${i}] must be an object, got ${describe(op)}`);
    const { type, key, value } = op as { type?: unknown; key?: unknown; value?: unknown };
    if (type === 'put') return toRecord(key, value, false, limits);
    if (type === 'del') return toRecord(key, undefined, true, limits);
    throw new KvError('KV_INVALID_ARGUMENT', `batch[${i}].type must be 'put' or 'del', got ${String(type)}`);
  });
}
