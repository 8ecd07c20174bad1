import { KvRecord } from '@kv/record';

/** Bytes from a string of latin1 characters, so tests can spell 0x00 and 0xff as \x00 and \xff. */
export function b(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function put(key: string, value: string, seq: number): KvRecord {
  return new KvRecord({ key: b(key), value: b(value), seq });
}

export function del(key: string, seq: number): KvRecord {
  return new KvRecord({ key: b(key), tombstone: true, seq });
}

/** Keys of records as latin1 strings, for readable expectations. */
export function keysOf(records: Iterable<KvRecord>): string[] {
  return Array.from(records, (r) => String.fromCharCode(...r.key));
}
