/**
 * The disk's own limits, measured with plain synchronous system calls (no store, no event
 * loop in the way) in the same run and directory as the stores (sync rates: best of three
 * windows):
 * - how many fdatasync calls per second complete after a 4 KiB append to a growing file
 *   (each sync also commits the file's new size to the journal);
 * - the same after overwriting a 4 KiB page of a preallocated file (data only: what a
 *   preallocated WAL segment pays per durable write);
 * - the same overwrite with fdatasync run on libuv's thread pool and awaited (what any store
 *   that keeps the event loop free pays: a hand-off to a worker thread and back per sync);
 * - sequential write bandwidth: large writes, then one fdatasync, timed together.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Rng } from './rng.js';
import { now } from './stats.js';

const fdatasyncOnPool = promisify(fs.fdatasync);
const PAGE = 4096;
const CHUNK = 1024 * 1024;
const PREALLOCATED_BYTES = 64 * 1024 * 1024;

export interface RateResult {
  ops: number;
  ms: number;
}

export interface BandwidthResult {
  bytes: number;
  ms: number;
}

function randomBytes(n: number, seed: number): Buffer {
  return new Rng(seed).fill(Buffer.allocUnsafe(n)) as Buffer;
}

const WINDOWS = 3;

/**
 * Runs `op` untimed for `warmupMs`, then for `ms` split into three windows, and reports the
 * best window: a limit is what the disk can do, and the best window is the least disturbed by
 * other processes (which makes kv's fraction of it conservative). A synchronous `op` runs in a
 * plain loop (nothing awaited); an asynchronous one is awaited one call at a time.
 */
async function timed(op: () => void | Promise<void>, ms: number, warmupMs: number): Promise<RateResult> {
  const warmEnd = now() + warmupMs;
  while (now() < warmEnd) {
    const pending = op();
    if (pending !== undefined) await pending;
  }
  let best: RateResult = { ops: 0, ms: 1 };
  for (let w = 0; w < WINDOWS; w++) {
    let ops = 0;
    const start = now();
    const end = start + ms / WINDOWS;
    while (now() < end) {
      const pending = op();
      if (pending !== undefined) await pending;
      ops++;
    }
    const window = { ops, ms: now() - start };
    if (window.ops / window.ms > best.ops / best.ms) best = window;
  }
  return best;
}

export async function syncAfterAppend(dir: string, ms: number, warmupMs: number): Promise<RateResult> {
  const fd = fs.openSync(path.join(dir, 'append.dat'), 'w');
  const page = randomBytes(PAGE, 1);
  let pos = 0;
  try {
    return await timed(
      () => {
        fs.writeSync(fd, page, 0, PAGE, pos);
        pos += PAGE;
        fs.fdatasyncSync(fd);
      },
      ms,
      warmupMs,
    );
  } finally {
    fs.closeSync(fd);
  }
}

/** A preallocated (written, synced) file for the overwrite measurements. */
function preallocated(dir: string): number {
  const fd = fs.openSync(path.join(dir, 'prealloc.dat'), 'w');
  const zeros = Buffer.alloc(CHUNK);
  for (let pos = 0; pos < PREALLOCATED_BYTES; pos += CHUNK) fs.writeSync(fd, zeros, 0, CHUNK, pos);
  fs.fdatasyncSync(fd);
  return fd;
}

export async function syncAfterOverwriteOnPool(dir: string, ms: number, warmupMs: number): Promise<RateResult> {
  const fd = preallocated(dir);
  try {
    const page = randomBytes(PAGE, 2);
    let pos = 0;
    return await timed(
      async () => {
        fs.writeSync(fd, page, 0, PAGE, pos);
        pos = (pos + PAGE) % PREALLOCATED_BYTES;
        await fdatasyncOnPool(fd);
      },
      ms,
      warmupMs,
    );
  } finally {
    fs.closeSync(fd);
  }
}

export async function syncAfterOverwrite(dir: string, ms: number, warmupMs: number): Promise<RateResult> {
  const fd = preallocated(dir);
  try {
    const page = randomBytes(PAGE, 2);
    let pos = 0;
    return await timed(
      () => {
        fs.writeSync(fd, page, 0, PAGE, pos);
        pos = (pos + PAGE) % PREALLOCATED_BYTES;
        fs.fdatasyncSync(fd);
      },
      ms,
      warmupMs,
    );
  } finally {
    fs.closeSync(fd);
  }
}

export function sequentialWrite(dir: string, bytes: number): BandwidthResult {
  const fd = fs.openSync(path.join(dir, 'sequential.dat'), 'w');
  try {
    const chunk = randomBytes(CHUNK, 3);
    const start = now();
    for (let pos = 0; pos < bytes; pos += CHUNK) fs.writeSync(fd, chunk, 0, Math.min(CHUNK, bytes - pos), pos);
    fs.fdatasyncSync(fd);
    return { bytes, ms: now() - start };
  } finally {
    fs.closeSync(fd);
  }
}
