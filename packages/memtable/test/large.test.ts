import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Memtable } from '@kv/memtable';
import { compareBytes, KvRecord } from '@kv/record';
import { describe, expect, it } from 'vitest';
import { LARGE_BUFFER_BYTES, zeroedBuffer } from '../src/large.js';

/** The VmFlags of this process's mappings of exactly `bytes` bytes (Linux /proc). */
function mappingsOfSize(bytes: number): string[] {
  const blocks = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  const size = new RegExp(`^Size:\\s+${bytes / 1024} kB$`, 'm');
  return blocks.filter((b) => size.test(b)).map((b) => /^VmFlags:(.*)$/m.exec(b)?.[1] ?? '');
}

describe('zeroedBuffer', () => {
  it('gives a small buffer as an ordinary zeroed ArrayBuffer', () => {
    for (const n of [0, 1, 4096, LARGE_BUFFER_BYTES - 1]) {
      const b = zeroedBuffer(n);
      expect(b).toBeInstanceOf(ArrayBuffer);
      expect(b.byteLength).toBe(n);
      expect(new Uint8Array(b).every((x) => x === 0)).toBe(true);
    }
  });

  it('gives a large buffer zeroed, writable, of the size asked, counted by V8 as external memory', () => {
    const bytes = LARGE_BUFFER_BYTES * 3 + 4096;
    const before = process.memoryUsage().external;
    const b = zeroedBuffer(bytes);
    expect(process.memoryUsage().external - before).toBeGreaterThanOrEqual(bytes);
    expect(b).toBeInstanceOf(ArrayBuffer);
    expect(b.byteLength).toBe(bytes);
    const words = new Uint32Array(b);
    expect(words.every((x) => x === 0)).toBe(true);
    words.fill(0xdeadbeef);
    expect(words[0]).toBe(0xdeadbeef);
    expect(words[words.length - 1]).toBe(0xdeadbeef);
    // Two large buffers never share bytes.
    const other = new Uint32Array(zeroedBuffer(bytes));
    expect(other.every((x) => x === 0)).toBe(true);
  });

  it.runIf(existsSync('/sys/kernel/mm/transparent_hugepage/enabled'))(
    'maps a large buffer of its own, advised for huge pages, and unmaps it once collected',
    async () => {
      const bytes = LARGE_BUFFER_BYTES * 5; // a size nothing else here maps
      expect(mappingsOfSize(bytes)).toEqual([]);
      let b: ArrayBuffer | null = zeroedBuffer(bytes);
      new Uint8Array(b).fill(1);
      const flags = mappingsOfSize(bytes);
      expect(flags).toHaveLength(1);
      expect(flags[0]?.split(' ')).toContain('hg'); // MADV_HUGEPAGE
      b = null;
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      for (let i = 0; i < 5 && mappingsOfSize(bytes).length > 0; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(mappingsOfSize(bytes)).toEqual([]);
    },
  );
});

describe('a memtable whose index, fields and flush sort are large buffers', () => {
  it('stores, replaces, finds and sorts 1.1M records as a small memtable does', () => {
    const n = 1_100_000; // fields 35 MB, index 32 MB, each sort lane 4.4 MB: all over the line
    const key = (i: number) => {
      const k = new Uint8Array(8);
      const x = Math.imul(i + 1, 0x9e3779b1) >>> 0; // a permutation of the indices: keys arrive unsorted
      k[0] = x >>> 24;
      k[1] = x >>> 16;
      k[2] = x >>> 8;
      k[3] = x;
      k[4] = i & 0xff;
      return k;
    };
    const value = (i: number, v: number) => Uint8Array.of(i & 0xff, v);
    const m = new Memtable({ thresholdBytes: 1 << 30 });
    m.reserve(n + n / 10);
    let seq = 0;
    for (let i = 0; i < n; i++) m.put(new KvRecord({ key: key(i), value: value(i, 1), seq: ++seq }));
    // Every tenth key again, newer.
    for (let i = 0; i < n; i += 10) m.put(new KvRecord({ key: key(i), value: value(i, 2), seq: ++seq }));
    for (const i of [0, 1, 9, 10, 12_345, n - 1]) {
      expect(m.get(key(i))?.value).toEqual(value(i, i % 10 === 0 ? 2 : 1));
    }
    expect(m.get(Uint8Array.of(1, 2, 3))).toBeUndefined();
    m.freeze();
    let count = 0;
    let prev: Uint8Array | undefined;
    let replaced = 0;
    let unordered = 0;
    for (const r of m.entries()) {
      if (prev !== undefined && compareBytes(prev, r.key) >= 0) unordered++;
      prev = r.key;
      if (r.value[1] === 2) replaced++;
      count++;
    }
    expect(unordered).toBe(0);
    expect(count).toBe(n);
    expect(replaced).toBe(n / 10);
  });
});
