import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareBytes, isKvError, type KvError, KvRecord, type RecordType } from '@kv/record';
import { nodeTableFs, type TableFile, type TableFs } from '@kv/sstable';
import { expect } from 'vitest';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function rec(
  key: string | Uint8Array,
  value: string | Uint8Array = '',
  seq = 1,
  extra: { tombstone?: boolean; timestamp?: number; type?: RecordType } = {},
): KvRecord {
  return new KvRecord({ key, value: extra.tombstone ? '' : value, seq, timestamp: extra.timestamp ?? 0, ...extra });
}

/** Records `k00000`..`k<n-1>` (sorted), value `v<i>` repeated to `valueBytes`. */
export function numbered(n: number, valueBytes = 8): KvRecord[] {
  const out: KvRecord[] = [];
  for (let i = 0; i < n; i++) {
    const value = `v${i}`.padEnd(valueBytes, '.');
    out.push(rec(`k${String(i).padStart(5, '0')}`, value, i + 1, { tombstone: i % 17 === 5 }));
  }
  return out;
}

/** `n` distinct random keys of `bytes` bytes from a fixed seed, sorted. */
export function randomKeys(n: number, seed: number, bytes = 16): Uint8Array[] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  while (out.length < n) {
    const key = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) key[i] = next() & 0xff;
    if (seen.has(hex(key))) continue;
    seen.add(hex(key));
    out.push(key);
  }
  return out.sort(compareBytes);
}

export function sortUnique(keys: Uint8Array[]): Uint8Array[] {
  const sorted = [...keys].sort(compareBytes);
  return sorted.filter((k, i) => i === 0 || compareBytes(sorted[i - 1] as Uint8Array, k) !== 0);
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kv-sstable-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Field-by-field equality of two records (bytes compared as hex for readable failures). */
export function expectSameRecord(actual: KvRecord | undefined, expected: KvRecord): void {
  expect(actual).toBeDefined();
  const a = actual as KvRecord;
  expect(hex(a.key)).toBe(hex(expected.key));
  expect(hex(a.value)).toBe(hex(expected.value));
  expect([a.tombstone, a.seq, a.timestamp, a.type]).toEqual([
    expected.tombstone,
    expected.seq,
    expected.timestamp,
    expected.type,
  ]);
}

export function sameRecord(a: KvRecord, b: KvRecord): boolean {
  return (
    hex(a.key) === hex(b.key) &&
    hex(a.value) === hex(b.value) &&
    a.tombstone === b.tombstone &&
    a.seq === b.seq &&
    a.timestamp === b.timestamp &&
    a.type === b.type
  );
}

export function expectKvError(fn: () => unknown, code: KvError['code'], pattern?: RegExp): KvError {
  try {
    fn();
  } catch (err) {
    expect(isKvError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
    if (pattern) expect((err as Error).message).toMatch(pattern);
    return err as KvError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

export async function rejectsWith(p: Promise<unknown>, code: KvError['code'], pattern?: RegExp): Promise<KvError> {
  try {
    await p;
  } catch (err) {
    expect(isKvError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
    if (pattern) expect((err as Error).message).toMatch(pattern);
    return err as KvError;
  }
  throw new Error(`expected ${code}, the promise resolved`);
}

/** A TableFs over in-memory files: fast sweeps over thousands of damaged copies of a table. */
export class MemoryFs implements TableFs {
  readonly files = new Map<string, Uint8Array>();

  async open(path: string, mode: 'read' | 'write'): Promise<TableFile> {
    if (mode === 'write') this.files.set(path, new Uint8Array(0));
    else if (!this.files.has(path)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    const files = this.files;
    return {
      async write(bytes: Uint8Array, position: number) {
        const old = files.get(path) as Uint8Array;
        const next = new Uint8Array(Math.max(old.length, position + bytes.length));
        next.set(old);
        next.set(bytes, position);
        files.set(path, next);
      },
      async fsync() {},
      async stat() {
        return { size: (files.get(path) as Uint8Array).length };
      },
      map(size: number) {
        return (files.get(path) as Uint8Array).subarray(0, size);
      },
      async close() {},
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const bytes = this.files.get(from);
    if (bytes === undefined) throw Object.assign(new Error(`ENOENT: ${from}`), { code: 'ENOENT' });
    this.files.set(to, bytes);
    this.files.delete(from);
  }

  async unlink(path: string): Promise<void> {
    if (!this.files.delete(path)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  }

  async fsyncDir(): Promise<void> {}
}

export type FaultPoint = 'open' | 'write' | 'fsync' | 'close' | 'rename' | 'fsyncDir';

/** The real file system, failing the `nth` call (1-based) of operation `at` with errno `code`. */
export function faultyFs(at: FaultPoint, code: string, nth = 1): TableFs & { calls: string[] } {
  const calls: string[] = [];
  let seen = 0;
  const maybeFail = (op: FaultPoint) => {
    calls.push(op);
    if (op === at && ++seen === nth) throw Object.assign(new Error(`${code}: injected at ${op}`), { code });
  };
  return {
    calls,
    async open(path, mode) {
      maybeFail('open');
      const file = await nodeTableFs.open(path, mode);
      return {
        async write(bytes, position) {
          maybeFail('write');
          await file.write(bytes, position);
        },
        async fsync() {
          maybeFail('fsync');
          await file.fsync();
        },
        stat: () => file.stat(),
        map: (size) => file.map(size),
        async close() {
          await file.close();
          maybeFail('close');
        },
      };
    },
    async rename(from, to) {
      maybeFail('rename');
      await nodeTableFs.rename(from, to);
    },
    unlink: (path) => nodeTableFs.unlink(path),
    async fsyncDir(dir) {
      maybeFail('fsyncDir');
      await nodeTableFs.fsyncDir(dir);
    },
  };
}
