/*
 * Micro benchmark of BloomView#mayContain, blocked (what the writer builds) against plain (the
 * layout of tables written before), over one filter of --keys keys at 10 bits per key. Not a
 * test: run it by hand after `npx tsc -b`, from the repository root:
 *
 *   node packages/sstable/bench/filter-probe.mjs [--keys 1000000] [--probes 2000000] [--rounds 7]
 *
 * Each filter block is written to a temporary file and memory-mapped, as Table.open does, at
 * two offsets: bits starting on a 64-byte boundary (a block is one cache line) and 8 bytes past
 * one (a block straddles two lines, as in most real tables, where the filter starts wherever the
 * data ends). Keys are "key-<i>" (present) and "absent-<i>" (2M absent); probes go in an order
 * shuffled with a fixed seed, so runs are comparable. Prints false-positive rates and the
 * median ns per probe over the rounds.
 */
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BloomView, buildFilter, buildPlainFilter, hashKey } from '../dist/filter.js';

const mmap = createRequire(import.meta.url)('mmap-io');

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    probes: { type: 'string', default: '2000000' },
    rounds: { type: 'string', default: '7' },
  },
});
const KEYS = Number(values.keys);
const PROBES = Number(values.probes);
const ROUNDS = Number(values.rounds);
const BITS_PER_KEY = 10;

const encoder = new TextEncoder();

/** Hash pairs of `prefix<i>` for i < n, as buildFilter takes them. */
function hashes(prefix, n) {
  const out = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const { h1, h2 } = hashKey(encoder.encode(`${prefix}${i}`));
    out[2 * i] = h1;
    out[2 * i + 1] = h2;
  }
  return out;
}

/** `n` hash pairs drawn from `pairs` in an order fixed by `seed` (xorshift32). */
function shuffled(pairs, n, seed) {
  const count = pairs.length / 2;
  const out = new Uint32Array(2 * n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % count;
    out[2 * i] = pairs[2 * j];
    out[2 * i + 1] = pairs[2 * j + 1];
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'kv-filter-bench-'));

/** The filter block mapped from a file at `offset`, as a table maps it. */
function mapped(block, offset) {
  const path = join(dir, `f-${offset}-${block.length}`);
  const fd = openSync(path, 'w+');
  writeSync(fd, new Uint8Array(offset));
  writeSync(fd, block, 0, block.length, offset);
  const map = mmap.map(offset + block.length, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0);
  const bytes = new Uint8Array(map.buffer, map.byteOffset, map.length);
  return BloomView.parse(bytes, offset, block.length, path);
}

function falsePositiveRate(view, absent) {
  let hits = 0;
  for (let i = 0; i < absent.length; i += 2) if (view.mayContain(absent[i], absent[i + 1])) hits++;
  return hits / (absent.length / 2);
}

/** ns per mayContain over one pass of `probes`. */
function timePass(view, probes) {
  let hits = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < probes.length; i += 2) if (view.mayContain(probes[i], probes[i + 1])) hits++;
  const ns = Number(process.hrtime.bigint() - start) / (probes.length / 2);
  if (hits < 0) throw new Error('unreachable: keeps the loop from being optimized away');
  return ns;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const present = hashes('key-', KEYS);
const absent = hashes('absent-', 2_000_000);
const hits = shuffled(present, PROBES, 0x6b764231);
const misses = shuffled(absent, PROBES, 0x6b764232);
const variants = [];
for (const [layout, block] of [
  ['plain', buildPlainFilter(present, KEYS, BITS_PER_KEY)],
  ['blocked', buildFilter(present, KEYS, BITS_PER_KEY)],
]) {
  for (const [alignment, offset] of [
    ['bits 64-byte aligned', 56],
    ['bits 8 past a line', 0],
  ]) {
    const view = mapped(block, offset);
    variants.push({ layout, alignment, block, view, fp: falsePositiveRate(view, absent), present: [], absent: [] });
  }
}

// Round-robin, so drift in machine load (another build, turbo boost) hits every variant alike.
for (let round = 0; round <= ROUNDS; round++) {
  for (const v of variants) {
    const p = timePass(v.view, hits);
    const a = timePass(v.view, misses);
    if (round === 0) continue; // warm-up: JIT and page faults
    v.present.push(p);
    v.absent.push(a);
  }
}

console.log(`${KEYS} keys, ${BITS_PER_KEY} bits per key, ${PROBES} probes per pass, median of ${ROUNDS} rounds`);
console.log(`node ${process.version}`);
for (const v of variants) {
  console.log(
    `${v.layout.padEnd(8)} ${v.alignment.padEnd(21)} filter ${(v.block.length / 1024).toFixed(0).padStart(6)} KiB` +
      `  fp ${(100 * v.fp).toFixed(3)}%  present ${median(v.present).toFixed(1)} ns  absent ${median(v.absent).toFixed(1)} ns`,
  );
}
rmSync(dir, { recursive: true, force: true });
